import type { Endpoint } from '../endpoint/Endpoint';
import { endpointState, PICKABLE_STATES } from '../endpoint/EndpointState';
import type { EndpointChanges } from '../discovery/EndpointChanges';
import { EndpointRecord } from './EndpointRecord';
import { type SlowStartOptions, slowStartFactor } from './SlowStart';
import { WeightedSet } from './WeightedSet';

/** The candidates of one state: all of them, and those in the balancer's zone. */
interface Tier {
  readonly all: WeightedSet;
  readonly local: WeightedSet | undefined;
}

/**
 * The endpoints a balancer picks from, kept by address and updated by what changed (an endpoint added,
 * removed or updated), never rebuilt: each endpoint's {@link EndpointRecord} (what calls taught about it),
 * and candidate sets by state (serving, draining, failing; maintenance is never a candidate), each also
 * by zone when the balancer prefers one. A change costs O(log n) per endpoint changed.
 *
 * Weights are relative: divided by the largest declared, they stay in (0, 1] and their sums finite
 * (1e308, 1e308 and 1.7e308 share 27/27/46 %). A new largest weight, or the largest one leaving, has
 * every weight worked out again (O(n)).
 * @internal
 */
export class EndpointPool {
  readonly #zone: string | undefined;
  readonly #slowStart: SlowStartOptions | undefined;
  readonly #weightOf: (endpoint: Endpoint) => number;
  readonly #ejectedIn: (set: WeightedSet) => number;
  /** Records whose weight slow start is ramping; and when their weights were last worked out. */
  readonly #ramping = new Set<EndpointRecord>();
  #rampedAt = -Infinity;
  /** Whether a first list was applied: endpoints of later lists ramp up. */
  #listed = false;
  readonly #records = new Map<string, EndpointRecord>();
  readonly #tiers = new Map<string, Tier>();
  #heaviest = 0;
  /** The largest weight left: every weight must be divided again. */
  #stale = false;

  /**
   * @param zone The zone to prefer, if any.
   * @param slowStart How endpoints that arrive after the first list ramp up, if they do.
   * @param weightOf An endpoint's declared weight (positive, finite).
   * @param ejectedIn How many records of a set are ejected (the zone's rule counts them).
   */
  constructor(
    zone: string | undefined,
    slowStart: SlowStartOptions | undefined,
    weightOf: (endpoint: Endpoint) => number,
    ejectedIn: (set: WeightedSet) => number,
  ) {
    this.#zone = zone;
    this.#slowStart = slowStart;
    this.#weightOf = weightOf;
    this.#ejectedIn = ejectedIn;
    for (const state of PICKABLE_STATES) {
      this.#tiers.set(state, {
        all: new WeightedSet(),
        local: zone === undefined ? undefined : new WeightedSet(),
      });
    }
  }

  /** How many endpoints it holds, candidates or not. */
  get size(): number {
    return this.#records.size;
  }

  get(address: string): EndpointRecord | undefined {
    return this.#records.get(address);
  }

  /** Applies what changed in the list, at `now`. */
  apply(changes: EndpointChanges, now: number): void {
    for (const endpoint of changes.removed) {
      const record = this.#records.get(endpoint.address);
      if (record !== undefined) {
        this.#leave(record);
        this.#records.delete(endpoint.address);
        this.#stale ||= record.declaredWeight >= this.#heaviest;
      }
    }
    for (const endpoint of [...changes.added, ...changes.updated]) {
      let record = this.#records.get(endpoint.address);
      const declared = this.#weightOf(endpoint);
      if (record === undefined) {
        record = new EndpointRecord(endpoint, declared);
        this.#records.set(endpoint.address, record);
        if (this.#slowStart !== undefined && this.#listed) {
          record.arrivedAt = now;
          record.ramp = slowStartFactor(0, this.#slowStart);
          this.#ramping.add(record);
        }
      } else {
        this.#leave(record);
        this.#stale ||= record.declaredWeight >= this.#heaviest && declared < this.#heaviest;
        record.endpoint = endpoint;
        record.declaredWeight = declared;
      }
      if (declared > this.#heaviest) {
        this.#heaviest = declared;
        this.#stale = true;
      }
      record.weight = (declared / this.#heaviest) * record.ramp;
      this.#join(record);
    }
    if (this.#stale) {
      this.#reweighAll();
    }
    this.#listed = true;
    this.#rampedAt = -Infinity;
  }

  /**
   * The set a new call picks from: the serving endpoints (else the draining ones, else the failing
   * ones), narrowed to the zone while at least half of its endpoints there (and one) are not ejected.
   */
  candidates(now: number): WeightedSet {
    this.#ramp(now);
    for (const state of PICKABLE_STATES) {
      const tier = this.#tiers.get(state) as Tier;
      if (tier.all.size === 0) {
        continue;
      }
      const local = tier.local;
      if (local !== undefined) {
        const admitted = local.size - this.#ejectedIn(local);
        if (admitted > 0 && admitted * 2 >= local.size) {
          return local;
        }
      }
      return tier.all;
    }
    return EMPTY;
  }

  /** The records of `set` in the order of `list` (the latest), once each: for a user's picker. */
  inListOrder(list: readonly Endpoint[], set: WeightedSet): EndpointRecord[] {
    const records: EndpointRecord[] = [];
    const seen = new Set<EndpointRecord>();
    for (const endpoint of list) {
      const record = this.#records.get(endpoint.address);
      if (record !== undefined && set.has(record) && !seen.has(record)) {
        seen.add(record); // Once each: a list of the user's may repeat an address.
        records.push(record);
      }
    }
    return records;
  }

  /** The tier's set a record is in (for the ejection cap), or `undefined`. */
  setOf(record: EndpointRecord): WeightedSet | undefined {
    return this.#tiers.get(endpointState(record.endpoint))?.all;
  }

  /** Works out the weights of ramping records (at most every 50 ms: a pick stays cheap). */
  #ramp(now: number): void {
    const slowStart = this.#slowStart;
    if (
      this.#ramping.size === 0 ||
      slowStart === undefined ||
      now - this.#rampedAt < RAMP_EVERY_MS
    ) {
      return;
    }
    this.#rampedAt = now;
    for (const record of this.#ramping) {
      if (this.#records.get(record.endpoint.address) !== record) {
        this.#ramping.delete(record); // It left.
        continue;
      }
      record.ramp = slowStartFactor(now - (record.arrivedAt ?? now), slowStart);
      this.#reweigh(record);
      if (record.ramp === 1) {
        record.arrivedAt = undefined;
        this.#ramping.delete(record);
      }
    }
  }

  /** The record's weight changed (slow start ramped it): `ramp` times its share of the largest. */
  #reweigh(record: EndpointRecord): void {
    record.weight = (record.declaredWeight / this.#heaviest) * record.ramp;
    const tier = this.#tiers.get(endpointState(record.endpoint));
    tier?.all.reweigh(record);
    tier?.local?.reweigh(record);
  }

  /**
   * Takes `record` out of every set until the list changes it: an endpoint kept as lost (its key
   * vanished unplanned) that refused a connection is gone, not an outlier to try again.
   */
  drop(record: EndpointRecord): void {
    this.#leave(record);
  }

  #join(record: EndpointRecord): void {
    const tier = this.#tiers.get(endpointState(record.endpoint));
    tier?.all.add(record);
    if (tier?.local !== undefined && record.endpoint.metadata?.zone === this.#zone) {
      tier.local.add(record);
    }
  }

  #leave(record: EndpointRecord): void {
    const tier = this.#tiers.get(endpointState(record.endpoint));
    tier?.all.delete(record);
    tier?.local?.delete(record);
  }

  #reweighAll(): void {
    this.#stale = false;
    let heaviest = 0;
    for (const record of this.#records.values()) {
      heaviest = Math.max(heaviest, record.declaredWeight);
    }
    this.#heaviest = heaviest;
    for (const record of this.#records.values()) {
      record.weight = (record.declaredWeight / heaviest) * record.ramp;
    }
    for (const tier of this.#tiers.values()) {
      tier.all.reweighAll();
      tier.local?.reweighAll();
    }
  }
}

const EMPTY = new WeightedSet();
/** How often, at most, slow start works out ramping weights again. */
const RAMP_EVERY_MS = 50;
