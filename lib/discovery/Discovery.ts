import { type BulkheadPolicy, bulkhead } from 'cockatiel';
import { catchError, Observable, of, type Subscriber, tap, throwError } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import type { Maintenance } from '../endpoint/Maintenance';
import { markService } from '../endpoint/listedService';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import { isLate } from '../etcd/EtcdFailure';
import type { EtcdContext } from '../etcd/EtcdContext';
import type { KeyLayout, KeyValue } from '../keys/KeyLayout';
import { OnceLog } from '../logging/OnceLog';
import type { EndpointChanges } from './EndpointChanges';
import { EndpointList } from './EndpointList';
import type { Protection } from './Departures';
import { FollowedOverrides } from './FollowedOverrides';
import { OverrideList, type Overrides } from './OverrideList';
import { overridden } from './applyOverrides';
import type { KeyObserver } from './KeyObservers';
import { LiveList, type LiveListOwner } from './LiveList';
import type { PrefixState } from './PrefixUpdate';
import { PrefixReads, readOnceWith } from './PrefixReads';
import { ServiceNames } from './ServiceNames';
import type { Freshness } from './Freshness';
import type { SnapshotStore } from '../snapshot/SnapshotStore';

/**
 * How many whole-prefix reads (a list's first read, a re-read, a one-off read) run at once; more wait
 * their turn. Thousands of lists started together (an xDS client naming thousands of services, every
 * list re-read after etcd was restored) would otherwise all race their deadlines on one connection,
 * and a list started a moment later would wait behind the retries of those that missed theirs.
 */
const MAX_CONCURRENT_RANGES = 32;

/**
 * The discovery half of a registry: one shared {@link LiveList} per watched prefix (a service's, or the
 * services root), and one-off lists served from them when they are live.
 *
 * The map holds a list only while it lives: when a list ends (grace period over, failure, close) its
 * entry goes with it, so a service watched once and released costs nothing afterwards. The Observables
 * handed out are not tied to one list: subscribing looks the live one up, or starts a new one.
 * @internal
 */
export class Discovery implements LiveListOwner {
  readonly context: EtcdContext;
  readonly gracePeriodMs: number;
  readonly ranges: BulkheadPolicy = bulkhead(MAX_CONCURRENT_RANGES, Infinity);
  /** The key layout it reads (and registrations write). */
  readonly layout: KeyLayout;
  readonly #log: OnceLog;
  readonly #reads: PrefixReads;
  readonly #lists = new Map<string, LiveList<unknown>>();
  /** Operators' overrides, followed by the lists that show them. */
  readonly #overrides: FollowedOverrides;

  readonly snapshots: SnapshotStore | undefined;
  readonly #lostSince: () => Date | undefined;
  readonly #protection: Protection | undefined;
  /** Records a stamped write's propagation: from the writer's clock to this host's (skew included). */
  readonly #arrived: (writtenAt: number) => void;
  /** Each list handed out by `endpoints$` and `services$`, and the live list it came from. */
  readonly #origins = new WeakMap<object, LiveList<unknown>>();

  constructor(
    context: EtcdContext,
    layout: KeyLayout,
    gracePeriodMs: number,
    options: {
      readonly snapshots?: SnapshotStore | undefined;
      readonly lostSince?: () => Date | undefined;
      /** What live lists do with keys that vanish unplanned; none kept without it. */
      readonly protection?: { readonly threshold: number; readonly keepMs: number };
    } = {},
  ) {
    this.context = context;
    this.gracePeriodMs = gracePeriodMs;
    this.layout = layout;
    this.snapshots = options.snapshots;
    this.#lostSince = options.lostSince ?? (() => undefined);
    this.#protection =
      options.protection === undefined
        ? undefined
        : { ...options.protection, now: () => context.clock.now() };
    this.#arrived = (writtenAt) =>
      context.metrics.propagation.record(Math.max(0, context.clock.now() - writtenAt) / 1000);
    this.#log = new OnceLog(context.logger);
    this.#overrides = new FollowedOverrides(
      () => this.overrides$(),
      (message) => this.#log.warn(message),
    );
    this.#reads = new PrefixReads(layout, this.#log, (prefix, operation, createState) =>
      this.#read(prefix, operation, createState),
    );
    // The registry's close completes every live list (which releases its watch).
    context.closing.addEventListener(
      'abort',
      () => [...this.#lists.values()].forEach((list) => list.complete()),
      { once: true },
    );
  }

  lostSince(): Date | undefined {
    return this.#lostSince();
  }

  /**
   * Whether a list `endpoints$` handed out is etcd's state now, or one from before; a list it did not
   * hand out (an array of the caller's, a one-off read's) is taken as live.
   */
  freshness(list: readonly Endpoint[] | readonly string[]): Freshness {
    return this.#origins.get(list)?.freshness() ?? { kind: 'live' };
  }

  /** Notes which live list `value` came from, for {@link Discovery.freshness}. */
  #remember(value: object, prefix: string): void {
    const origin = this.#lists.get(prefix);
    if (origin !== undefined) {
      this.#origins.set(value, origin);
    }
  }

  /** How many lists are live (watched prefixes): for tests and metrics. */
  get size(): number {
    return this.#lists.size;
  }

  /**
   * A service's endpoints as etcd holds them, with operators' overrides applied: an endpoint in
   * maintenance says so. The first list waits for the overrides' first read.
   */
  endpoints$(service: string): Observable<readonly Endpoint[]> {
    let valid: string;
    try {
      valid = this.layout.validateService(service);
    } catch (error) {
      return throwError(() => error);
    }
    const prefix = this.layout.servicePrefix(valid);
    return markService(
      new Observable<readonly Endpoint[]>((subscriber) => {
        // The keys' list, shown with the registry's overrides once they were read: one listener per
        // subscriber, no operator chain (a watched service stays about a kilobyte).
        let keys: readonly Endpoint[] | undefined;
        const emit = (): void => {
          if (keys !== undefined && this.#overrides.known) {
            const list = this.#overrides.apply(keys, valid);
            this.#remember(list, prefix);
            subscriber.next(list);
          }
        };
        subscriber.add(this.#overrides.follow(valid, emit));
        subscriber.add(
          this.asWritten$(valid).subscribe({
            next: (list) => {
              keys = list;
              emit();
            },
            error: (error: unknown) => subscriber.error(error),
            complete: () => subscriber.complete(),
          }),
        );
      }),
      valid,
    );
  }

  /**
   * What changes in a service's list, with operators' overrides applied: first every endpoint as added,
   * then what each change added, removed or updated, at etcd's revision. The list behind it is shared
   * with `endpoints$`, and never copied for subscribers of changes alone.
   */
  changes$(service: string): Observable<EndpointChanges> {
    let valid: string;
    try {
      valid = this.layout.validateService(service);
    } catch (error) {
      return throwError(() => error);
    }
    const prefix = this.layout.servicePrefix(valid);
    return new Observable<EndpointChanges>((subscriber) => {
      let overrides: ReadonlyMap<string, Maintenance> | undefined;
      let ready = false;
      const waiting: EndpointChanges[] = [];
      const withOverride = (endpoint: Endpoint): Endpoint => overridden(endpoint, overrides);
      const send = (changes: EndpointChanges): void =>
        subscriber.next(
          overrides === undefined
            ? changes
            : {
                ...changes,
                added: changes.added.map(withOverride),
                updated: changes.updated.map(withOverride),
              },
        );
      // Overrides first, as endpoints$ waits for them: the first changes already say maintenance.
      subscriber.add(
        this.#overrides.follow(valid, () => {
          const before = overrides;
          const next = this.#overrides.of(valid);
          overrides = next;
          if (!ready) {
            ready = true;
            waiting.splice(0).forEach(send);
            return;
          }
          // Endpoints whose override came, went or changed: updated, as the list holds them.
          const list = this.#lists.get(prefix)?.state;
          const updated: Endpoint[] = [];
          for (const address of new Set([...(before?.keys() ?? []), ...(next?.keys() ?? [])])) {
            const endpoint =
              before?.get(address) === next?.get(address)
                ? undefined
                : list instanceof EndpointList
                  ? list.endpointAt(address)
                  : undefined;
            if (endpoint !== undefined) {
              updated.push(withOverride(endpoint));
            }
          }
          if (updated.length > 0) {
            subscriber.next({ added: [], removed: [], updated });
          }
        }),
      );
      subscriber.add(
        new Observable<EndpointChanges>((changes) => {
          if (this.context.closing.aborted) {
            changes.error(new RegistryClosedError(`watch ${prefix}`));
            return undefined;
          }
          const list = this.#listOf(prefix, () => this.#endpointList(valid, prefix, true));
          const { state } = list;
          return state instanceof EndpointList ? list.addChanges(changes, state) : undefined;
        }).subscribe({
          next: (changes) => (ready ? send(changes) : waiting.push(changes)),
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        }),
      );
    });
  }

  /** A service's endpoints as its keys say, without overrides: what registrations guard. */
  asWritten$(service: string): Observable<readonly Endpoint[]> {
    const prefix = this.layout.servicePrefix(service);
    return new Observable<readonly Endpoint[]>((subscriber) =>
      this.#attach(subscriber, prefix, () => this.#endpointList(service, prefix, true)),
    );
  }

  /**
   * Operators' overrides, by service and address. An etcd user that may not read them (a role limited
   * to the services' keys) sees none, said once in a warning.
   */
  overrides$(): Observable<Overrides> {
    const prefix = this.layout.overridesPrefix;
    return new Observable<Overrides>((subscriber) =>
      this.#attach(subscriber, prefix, () => new OverrideList(this.layout, this.#log)),
    ).pipe(catchError((error: unknown) => of(this.#reads.noOverrides(error))));
  }

  services$(): Observable<readonly string[]> {
    const prefix = this.#reads.servicesPrefix();
    if (typeof prefix !== 'string') {
      return throwError(() => prefix);
    }
    return new Observable<readonly string[]>((subscriber) =>
      this.#attach(subscriber, prefix, () => new ServiceNames(this.layout, this.#log)),
    ).pipe(tap((names) => this.#remember(names, prefix)));
  }

  /**
   * Tells `observer` what etcd holds at `key` (a key under `service`'s prefix) each time the live list of
   * `service` learns it, until the returned function is called; `undefined` while no list is live (keep
   * one live by subscribing to {@link Discovery.endpoints$} first).
   */
  observe(service: string, key: string, observer: KeyObserver): (() => void) | undefined {
    return this.#lists.get(this.layout.servicePrefix(service))?.observe(key, observer);
  }

  endpoints(service: string): Promise<readonly Endpoint[]> {
    return this.#reads.endpoints(service);
  }

  /** A service's endpoints now, as its keys say, without overrides. */
  asWritten(service: string): Promise<readonly Endpoint[]> {
    return this.#reads.asWritten(service);
  }

  /** Operators' overrides now; rejects a user that may not read them (lists show none instead). */
  overrides(): Promise<Overrides> {
    return this.#reads.overrides();
  }

  services(): Promise<readonly string[]> {
    return this.#reads.services();
  }

  /**
   * Writes every service's list, and operators' overrides, to `store` now, each as one range get
   * found it (in turn with the lists' reads): what `gsr snapshot save` ships to hosts that never ran
   * gsr. Resolves with how many lists it wrote; rejects with the first that could not be read or written.
   */
  async saveSnapshots(store: SnapshotStore): Promise<number> {
    const { etcd } = this.context;
    const lists: [string, PrefixState<unknown> & { entries(): readonly KeyValue[] }][] = [
      ...(await this.services()).map((service): [string, EndpointList] => {
        const prefix = this.layout.servicePrefix(service);
        return [prefix, this.#endpointList(service, prefix)];
      }),
      [this.layout.overridesPrefix, new OverrideList(this.layout, this.#log)],
    ];
    for (const [prefix, state] of lists) {
      const operation = `snapshot ${prefix}`;
      const range = await this.ranges
        .execute(() => etcd.range(prefix))
        .catch((error: unknown) => {
          throw this.context.failure(error, { key: prefix, description: operation });
        });
      state.reset(range.entries);
      await store.write(prefix, { entries: () => state.entries(), revision: range.revision });
    }
    return lists.length;
  }

  /** Each watched service whose list has a value, with its number of endpoints: for metrics. */
  *endpointCounts(): Iterable<readonly [string, number]> {
    for (const list of this.#lists.values()) {
      const { state } = list;
      if (state instanceof EndpointList && list.value !== undefined) {
        yield [state.service, state.size];
      }
    }
  }

  released(list: LiveList<unknown>): void {
    if (this.#lists.get(list.prefix) === list) {
      this.#lists.delete(list.prefix);
      if (list.state instanceof EndpointList) {
        this.context.metrics.watchedServices.add(-1);
      }
    }
  }

  #attach<T>(subscriber: Subscriber<T>, prefix: string, createState: () => PrefixState<T>) {
    if (this.context.closing.aborted) {
      subscriber.error(new RegistryClosedError(`watch ${prefix}`));
      return undefined;
    }
    return this.#listOf(prefix, createState).add(subscriber);
  }

  /** The live list of `prefix`, started when there is none. */
  #listOf<T>(prefix: string, createState: () => PrefixState<T>): LiveList<T> {
    let list = this.#lists.get(prefix) as LiveList<T> | undefined;
    if (list === undefined) {
      const state = createState();
      list = new LiveList(this, prefix, state);
      this.#lists.set(prefix, list);
      if (state instanceof EndpointList) {
        this.context.metrics.watchedServices.add(1);
      }
    }
    return list;
  }

  /**
   * A service's list; a `live` one (followed by a watch) keeps unplanned departures for a while and
   * measures how long stamped writes took to arrive.
   */
  #endpointList(service: string, prefix: string, live = false): EndpointList {
    return live
      ? new EndpointList(service, prefix, this.layout, this.#log, this.#protection, this.#arrived)
      : new EndpointList(service, prefix, this.layout, this.#log);
  }

  /**
   * The state of `prefix` now: from its live list behind a fence when one is live (it then holds every
   * write etcd confirmed before the call), else with one range get. Typed errors; asked once more
   * only when etcd answered late (a slow etcd or a busy process is no outage), never when it is
   * unreachable.
   */
  async #read<T>(prefix: string, operation: string, createState: () => PrefixState<T>): Promise<T> {
    const { etcd, closing, logger } = this.context;
    if (closing.aborted) {
      throw new RegistryClosedError(operation);
    }
    const attempt = async (): Promise<T> => {
      const live = await (this.#lists.get(prefix) as LiveList<T> | undefined)?.read();
      if (live !== undefined) {
        return live;
      }
      return readOnceWith((p) => this.ranges.execute(() => etcd.range(p)), prefix, createState);
    };
    try {
      return await attempt().catch((error: unknown) => {
        if (!isLate(error) || closing.aborted) {
          throw error;
        }
        logger.debug(`${operation}: etcd answered late; asking once more`);
        return attempt();
      });
    } catch (error) {
      throw this.context.failure(error, { key: prefix, description: operation });
    }
  }
}
