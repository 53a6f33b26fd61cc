import type { Endpoint } from '../endpoint/Endpoint';
import { isAuthenticationError } from '../errors/AuthenticationError';
import { isPermissionDeniedError } from '../errors/PermissionDeniedError';
import type { ValidationError } from '../errors/ValidationError';
import type { RangeResult } from '../etcd/EtcdPort';
import type { KeyLayout } from '../keys/KeyLayout';
import { noServiceList } from '../keys/noServiceList';
import type { OnceLog } from '../logging/OnceLog';
import { applyOverrides } from './applyOverrides';
import { EndpointList } from './EndpointList';
import { OverrideList, Overrides } from './OverrideList';
import type { PrefixState } from './PrefixUpdate';
import { ServiceNames } from './ServiceNames';

/**
 * Reads `prefix` once into the state `createState` makes and resolves with its snapshot; rejects with a
 * typed error (`operation` says what was being done).
 * @internal
 */
type ReadPrefix = <T>(
  prefix: string,
  operation: string,
  createState: () => PrefixState<T>,
) => Promise<T>;

/**
 * A prefix read once with `range` (the gRPC port's, or the JSON gateway's: both are `EtcdKV`), made into
 * the state `createState` makes, as its snapshot: the one way both read a prefix once. The range's
 * failure is the caller's to type (with the one classifier: `oneOffError`).
 * @internal
 */
export async function readOnceWith<T>(
  range: (prefix: string) => Promise<RangeResult>,
  prefix: string,
  createState: () => PrefixState<T>,
): Promise<T> {
  const { entries } = await range(prefix);
  const state = createState();
  state.reset(entries);
  return state.snapshot();
}

/**
 * A registry's one-off reads (a service's endpoints with operators' overrides, its keys alone, the
 * overrides, the services) over any way of reading a prefix once: a registry's (from a live list when
 * one is live, else a range get over gRPC), or a command line's (etcd's JSON gateway, which loads no
 * gRPC). What etcd holds is made into lists here, the same way for both.
 * @internal
 */
export class PrefixReads {
  readonly #layout: KeyLayout;
  readonly #log: OnceLog;
  readonly #read: ReadPrefix;

  constructor(layout: KeyLayout, log: OnceLog, read: ReadPrefix) {
    this.#layout = layout;
    this.#log = log;
    this.#read = read;
  }

  /** Whether the layout has a services root (gsr's does, etcd's naming layout does not). */
  get listsServices(): boolean {
    return this.#layout.servicesPrefix !== undefined;
  }

  /** A service's endpoints now, with operators' overrides applied. */
  async endpoints(service: string): Promise<readonly Endpoint[]> {
    const valid = this.#layout.validateService(service);
    // Side by side; the service's own failure is the one to report when both fail.
    const [list, overrides] = await Promise.allSettled([
      this.asWritten(valid),
      this.overrides().catch((error: unknown) => this.noOverrides(error)),
    ]);
    if (list.status === 'rejected') {
      throw list.reason;
    }
    if (overrides.status === 'rejected') {
      throw overrides.reason;
    }
    return applyOverrides(list.value, overrides.value.get(valid));
  }

  /**
   * A service's endpoints now, as its keys say, without overrides: etcd's state, so without the
   * endpoints a live list keeps as lost (they are not etcd's).
   */
  async asWritten(service: string): Promise<readonly Endpoint[]> {
    const prefix = this.#layout.servicePrefix(service);
    const list = await this.#read(
      prefix,
      `list endpoints of "${service}"`,
      () => new EndpointList(service, prefix, this.#layout, this.#log),
    );
    return list.some((endpoint) => endpoint.state === 'lost')
      ? Object.freeze(list.filter((endpoint) => endpoint.state !== 'lost'))
      : list;
  }

  /**
   * Operators' overrides now. Rejects like any read, a refusal too: lists go on without overrides a
   * user may not read ({@link PrefixReads.noOverrides}), but a list of the overrides themselves must not
   * say "none" for "you may not know".
   */
  overrides(): Promise<Overrides> {
    return this.#read(
      this.#layout.overridesPrefix,
      'list overrides',
      () => new OverrideList(this.#layout, this.#log),
    );
  }

  /** The services that have endpoints now. */
  async services(): Promise<readonly string[]> {
    const prefix = this.servicesPrefix();
    if (typeof prefix !== 'string') {
      throw prefix;
    }
    return this.#read(prefix, 'list services', () => new ServiceNames(this.#layout, this.#log));
  }

  /**
   * No overrides, for a list whose overrides could not be read for good (a denial): said once.
   * Anything else is rethrown.
   */
  noOverrides(error: unknown): Overrides {
    if (!isPermissionDeniedError(error) && !isAuthenticationError(error)) {
      throw error;
    }
    this.#log.warn(
      `cannot read operators' overrides under "${this.#layout.overridesPrefix}" (${(error as Error).message}): lists show none`,
    );
    return Overrides.none;
  }

  /** The services root, or why the layout has none. */
  servicesPrefix(): string | ValidationError {
    return (
      this.#layout.servicesPrefix ??
      noServiceList(
        'keyLayout',
        'etcd-naming',
        "services$() and services() need gsr's layout; watch each target with endpoints$(target)",
      )
    );
  }
}
