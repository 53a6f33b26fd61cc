import { decodeMaintenance } from '../endpoint/maintenanceCodec';
import type { Maintenance } from '../endpoint/Maintenance';
import { nameProblem } from '../endpoint/nameProblem';
import type { KeyLayout, KeyValue } from '../keys/KeyLayout';
import type { OnceLog } from '../logging/OnceLog';
import { decodeUtf8 } from '../text/decodeUtf8';
import { escapeBytes } from '../text/escapeBytes';
import type { KeyChange, PrefixState } from './PrefixUpdate';

/** Operators' overrides: for each service that has any, its addresses in maintenance. @internal */
export type Overrides = ReadonlyMap<string, ReadonlyMap<string, Maintenance>>;

/** The most overrides kept: more are skipped, with one log line, so that memory stays bounded. */
export const MAX_OVERRIDES = 10_000;

/**
 * The overrides under the layout's overrides prefix, `<service>/<address>` each (split at the last
 * `/`: a target of etcd's naming layout may hold `/`, an address does not), kept as changes arrive.
 * Entries that are not overrides are skipped with one log line. A service's map is replaced, never
 * changed, when one of its overrides changes: the maps of other services stay the same objects, so
 * their lists do not change.
 * @internal
 */
export class OverrideList implements PrefixState<Overrides> {
  readonly #layout: KeyLayout;
  readonly #log: OnceLog;
  readonly #prefixBytes: number;
  #byService = new Map<string, Map<string, Maintenance>>();
  #count = 0;
  #snapshot: Overrides | undefined;

  constructor(layout: KeyLayout, log: OnceLog) {
    this.#layout = layout;
    this.#log = log;
    this.#prefixBytes = Buffer.byteLength(layout.overridesPrefix);
  }

  reset(entries: readonly KeyValue[]): boolean {
    const before = this.#byService;
    this.#byService = new Map();
    this.#count = 0;
    for (const entry of entries) {
      this.#put(entry);
    }
    // Keep the maps of services whose overrides are as they were.
    let changed = before.size !== this.#byService.size;
    for (const [service, overrides] of this.#byService) {
      const old = before.get(service);
      if (old !== undefined && sameOverrides(old, overrides)) {
        this.#byService.set(service, old);
      } else {
        changed = true;
      }
    }
    if (changed) {
      this.#snapshot = undefined;
    }
    return changed;
  }

  apply(changes: readonly KeyChange[]): boolean {
    let changed = false;
    for (const change of changes) {
      changed = (change.type === 'put' ? this.#put(change) : this.#delete(change)) || changed;
    }
    if (changed) {
      this.#snapshot = undefined;
    }
    return changed;
  }

  snapshot(): Overrides {
    this.#snapshot ??= new Map(this.#byService);
    return this.#snapshot;
  }

  #put(entry: KeyValue): boolean {
    const where = this.#where(entry.key, true);
    if (where === undefined) {
      return false;
    }
    const decoded = decodeMaintenance(entry.value);
    if ('skip' in decoded) {
      this.#log.warn(`skipping malformed override "${escapeBytes(entry.key)}": ${decoded.skip}`);
      return this.#delete(entry);
    }
    const [service, address] = where;
    const overrides = this.#byService.get(service);
    const old = overrides?.get(address);
    if (old !== undefined && sameMaintenance(old, decoded.maintenance)) {
      return false;
    }
    if (old === undefined && this.#count >= MAX_OVERRIDES) {
      this.#log.warn(`skipping override "${escapeBytes(entry.key)}": more than ${MAX_OVERRIDES}`);
      return false;
    }
    const next = new Map(overrides);
    next.set(address, decoded.maintenance);
    this.#byService.set(service, next);
    this.#count += old === undefined ? 1 : 0;
    return true;
  }

  #delete(entry: KeyValue): boolean {
    const where = this.#where(entry.key, false);
    const overrides = where && this.#byService.get(where[0]);
    if (where === undefined || overrides?.has(where[1]) !== true) {
      return false;
    }
    const next = new Map(overrides);
    next.delete(where[1]);
    if (next.size === 0) {
      this.#byService.delete(where[0]);
    } else {
      this.#byService.set(where[0], next);
    }
    this.#count -= 1;
    return true;
  }

  /** The service and address a key names, or `undefined` (logged when `report`). */
  #where(key: Buffer, report: boolean): readonly [string, string] | undefined {
    const rest = decodeUtf8(key.subarray(this.#prefixBytes));
    const slash = rest?.lastIndexOf('/') ?? -1;
    const service = rest?.slice(0, Math.max(0, slash)) ?? '';
    const address = rest?.slice(slash + 1) ?? '';
    let problem: string | undefined =
      rest === undefined
        ? 'it is not valid UTF-8'
        : slash < 0
          ? 'not <service>/<address>'
          : undefined;
    if (problem === undefined) {
      try {
        this.#layout.validateService(service);
        const addressProblem = nameProblem(address);
        problem = addressProblem && `the address ${addressProblem}`;
      } catch (error) {
        problem = `the service is not one: ${(error as Error).message}`;
      }
    }
    if (problem !== undefined) {
      if (report) {
        this.#log.warn(`skipping malformed override "${escapeBytes(key)}": ${problem}`);
      }
      return undefined;
    }
    return [service, address];
  }
}

function sameMaintenance(a: Maintenance, b: Maintenance): boolean {
  return a.reason === b.reason && a.since === b.since;
}

function sameOverrides(
  a: ReadonlyMap<string, Maintenance>,
  b: ReadonlyMap<string, Maintenance>,
): boolean {
  if (a.size !== b.size) {
    return false;
  }
  for (const [address, maintenance] of a) {
    const other = b.get(address);
    if (other === undefined || !sameMaintenance(maintenance, other)) {
      return false;
    }
  }
  return true;
}
