import { decodeMaintenance, encodeMaintenance } from '../endpoint/maintenanceCodec';
import type { Maintenance } from '../endpoint/Maintenance';
import { nameProblem } from '../endpoint/nameProblem';
import type { KeyLayout, KeyValue } from '../keys/KeyLayout';
import type { OnceLog } from '../logging/OnceLog';
import { decodeUtf8 } from '../text/decodeUtf8';
import { escapeBytes } from '../text/escapeBytes';
import { escapeText } from '../text/escapeText';
import type { KeyChange, PrefixState } from './PrefixUpdate';

/** How many overrides may apply: past a limit, none of those it counts applies. @internal */
interface OverrideLimits {
  /** The most one service may hold. */
  readonly perService: number;
  /** The most all services together may hold. */
  readonly total: number;
}

/** gsr's limits: enough for any operator, small enough that junk costs every reader little. */
export const OVERRIDE_LIMITS: OverrideLimits = Object.freeze({
  perService: 10_000,
  total: 100_000,
});

/**
 * Operators' overrides: for each service that has any, its addresses in maintenance, and how many
 * override keys etcd holds (applied or not), which is what the limits count.
 * @internal
 */
export class Overrides extends Map<string, ReadonlyMap<string, Maintenance>> {
  /** None: what a user that may not read overrides sees. */
  static readonly none: Overrides = new Overrides(new Map(), new Map(), 0);
  readonly #held: ReadonlyMap<string, number>;
  readonly #limits: OverrideLimits;

  constructor(
    applied: ReadonlyMap<string, ReadonlyMap<string, Maintenance>>,
    held: ReadonlyMap<string, number>,
    /** How many override keys etcd holds in all. */
    readonly total: number,
    limits: OverrideLimits = OVERRIDE_LIMITS,
  ) {
    super(applied);
    this.#held = held;
    this.#limits = limits;
  }

  /** How many override keys etcd holds for `service`, whether they apply or not. */
  heldBy(service: string): number {
    return this.#held.get(service) ?? 0;
  }

  /**
   * Why one more override of `service` (at an address it has none for) would not apply, or
   * `undefined` when it would.
   */
  refusal(service: string): string | undefined {
    const { total, perService } = this.#limits;
    if (this.total >= total) {
      return `etcd holds ${this.total} overrides, the most gsr applies (${total}); one more would turn every one of them off`;
    }
    const held = this.heldBy(service);
    return held < perService
      ? undefined
      : `"${escapeText(service, 120)}" holds ${held} overrides, the most gsr applies to one service (${perService}); one more would turn all of them off`;
  }
}

/**
 * The overrides under the layout's overrides prefix, `<service>/<address>` each (split at the last
 * `/`: a target of etcd's naming layout may hold `/`, an address does not), kept as changes arrive.
 * Entries that are not overrides are skipped with one log line. A service's map is replaced, never
 * changed, when one of its overrides changes: the maps of other services stay the same objects, so
 * their lists do not change.
 *
 * Memory is bounded by counting, never by choosing: a service that holds more override keys than
 * {@link OVERRIDE_LIMITS} allow one service has none applied (and none kept), and past the limit for
 * all, none applies at all, each said once. Which overrides apply is then a
 * function of what etcd holds, never of the order they were written or read in. Keys are counted
 * exactly (a put that created its key, a delete); once a count is back under its limit, the list asks
 * to be read again ({@link OverrideList.needsRead}) for what it did not keep.
 * @internal
 */
export class OverrideList implements PrefixState<Overrides> {
  readonly #layout: KeyLayout;
  readonly #log: OnceLog;
  readonly #prefixBytes: number;
  readonly #limits: OverrideLimits;
  /** The overrides that apply, by service: only services within the limits. */
  #byService = new Map<string, Map<string, Maintenance>>();
  /** Override keys etcd holds, by service, whatever their values. */
  #held = new Map<string, number>();
  #total = 0;
  /** How many times a key was counted in or out: a change of it is a change of the snapshot. */
  #counted = 0;
  #needsRead = false;
  #snapshot: Overrides | undefined;
  /** The maps made during this update, which no snapshot holds yet: changed in place. */
  readonly #fresh = new Set<Map<string, Maintenance>>();

  constructor(layout: KeyLayout, log: OnceLog, limits: OverrideLimits = OVERRIDE_LIMITS) {
    this.#layout = layout;
    this.#log = log;
    this.#limits = limits;
    this.#prefixBytes = Buffer.byteLength(layout.overridesPrefix);
  }

  /** Whether a count came back under its limit: only a new read finds what was not kept. */
  get needsRead(): boolean {
    return this.#needsRead;
  }

  reset(entries: readonly KeyValue[]): boolean {
    const before = this.#byService;
    const heldBefore = this.#held;
    this.#byService = new Map();
    this.#held = new Map();
    this.#total = 0;
    this.#needsRead = false;
    for (const entry of entries) {
      this.#put(entry, true);
    }
    // Keep the maps of services whose overrides are as they were.
    let changed = before.size !== this.#byService.size || !sameCounts(heldBefore, this.#held);
    for (const [service, overrides] of this.#byService) {
      const old = before.get(service);
      if (old !== undefined && sameOverrides(old, overrides)) {
        this.#byService.set(service, old);
      } else {
        changed = true;
      }
    }
    this.#snapshot = undefined;
    this.#fresh.clear();
    return changed;
  }

  /** Whether what applies, or the counts, changed. */
  apply(changes: readonly KeyChange[]): boolean {
    const counted = this.#counted;
    let changed = false;
    for (const change of changes) {
      changed =
        (change.type === 'put' ? this.#put(change, change.version === 1) : this.#delete(change)) ||
        changed;
    }
    // A key made or deleted changes the counts (what a new override is checked against) if nothing else.
    changed ||= this.#counted !== counted;
    this.#fresh.clear();
    if (changed) {
      this.#snapshot = undefined;
    }
    return changed;
  }

  readonly snapshotWhenEmpty = true;

  entries(): readonly KeyValue[] {
    // The overrides that apply, as `gsr drain` writes them.
    return [...this.#byService].flatMap(([service, addresses]) =>
      [...addresses].map(([address, maintenance]) => ({
        key: Buffer.from(this.#layout.overrideKey({ service, address })),
        value: Buffer.from(encodeMaintenance(maintenance)),
      })),
    );
  }

  snapshot(): Overrides {
    this.#snapshot ??= new Overrides(
      new Map(this.#byService),
      new Map(this.#held),
      this.#total,
      this.#limits,
    );
    return this.#snapshot;
  }

  /** Whether the overrides of `service` apply: it and all services are within their limits. */
  #applies(service: string): boolean {
    const { total, perService } = this.#limits;
    return this.#total <= total && (this.#held.get(service) ?? 0) <= perService;
  }

  /** Takes a put (`created`: it made the key); whether the overrides that apply changed. */
  #put(entry: KeyValue, created: boolean): boolean {
    const where = this.#where(entry.key, true);
    if (where === undefined) {
      return false;
    }
    const [service, address] = where;
    if (created) {
      const held = (this.#held.get(service) ?? 0) + 1;
      this.#held.set(service, held);
      this.#total += 1;
      this.#counted += 1;
      const { total, perService } = this.#limits;
      if (this.#total === total + 1) {
        this.#log.warn(
          `etcd holds more than ${total} overrides: none applies until some are cleared (gsr overrides, gsr undrain)`,
        );
        const changed = this.#byService.size > 0;
        this.#byService = new Map();
        return changed;
      }
      if (held === perService + 1) {
        this.#log.warn(
          `"${escapeText(service, 120)}" holds more than ${perService} overrides: none of them applies until some are cleared (gsr overrides, gsr undrain)`,
        );
        return this.#byService.delete(service);
      }
    }
    if (!this.#applies(service)) {
      return false;
    }
    const decoded = decodeMaintenance(entry.value);
    if ('skip' in decoded) {
      this.#log.warn(`skipping malformed override "${escapeBytes(entry.key)}": ${decoded.skip}`);
      return this.#unapply(service, address);
    }
    const overrides = this.#byService.get(service);
    const old = overrides?.get(address);
    if (old !== undefined && sameMaintenance(old, decoded.maintenance)) {
      return false;
    }
    this.#writable(service, overrides).set(address, decoded.maintenance);
    return true;
  }

  /**
   * The map of `service` to change: a copy of the one a snapshot may hold, made once per update (a
   * copy per change would make an update of thousands quadratic).
   */
  #writable(service: string, overrides: Map<string, Maintenance> | undefined) {
    if (overrides !== undefined && this.#fresh.has(overrides)) {
      return overrides;
    }
    const next = new Map(overrides);
    this.#fresh.add(next);
    this.#byService.set(service, next);
    return next;
  }

  #delete(entry: KeyValue): boolean {
    const where = this.#where(entry.key, false);
    if (where === undefined) {
      return false;
    }
    const [service, address] = where;
    const { total, perService } = this.#limits;
    const held = (this.#held.get(service) ?? 1) - 1;
    if (held === 0) {
      this.#held.delete(service);
    } else {
      this.#held.set(service, held);
    }
    this.#total -= 1;
    this.#counted += 1;
    // Back under a limit: what was left out (every service's, or this one's) is not here to apply.
    if (this.#total === total || (held === perService && this.#total <= total)) {
      this.#needsRead = true;
    }
    return this.#unapply(service, address);
  }

  /** Takes `address` of `service` out of what applies; whether it was there. */
  #unapply(service: string, address: string): boolean {
    const overrides = this.#byService.get(service);
    if (overrides?.has(address) !== true) {
      return false;
    }
    const next = this.#writable(service, overrides);
    next.delete(address);
    if (next.size === 0) {
      this.#byService.delete(service);
    }
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

function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([service, held]) => b.get(service) === held);
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
