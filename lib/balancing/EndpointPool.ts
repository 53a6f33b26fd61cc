import type { Endpoint } from '../endpoint/Endpoint';
import { endpointState, PICKABLE_STATES } from '../endpoint/EndpointState';
import type { EndpointChanges } from '../discovery/EndpointChanges';
import { endpointLocality, type Locality, servingByZone } from '../locality/Locality';
import type { LocalityPolicy } from '../locality/LocalityPolicy';
import { type LocalityGroup, type LocalityPlan, localityPlan } from '../locality/localityPlan';
import { priorityOf } from '../locality/priorityOf';
import { escapeText } from '../text/escapeText';
import { EndpointRecord } from './EndpointRecord';
import { type SlowStartOptions, slowStartFactor } from './SlowStart';
import { WeightedSet } from './WeightedSet';

/**
 * The serving endpoints of one priority in one zone: `healthy` (serving), and `all` (serving, failing
 * or lost: what the group calls when its priority is in panic).
 */
interface Group {
  readonly priority: number;
  readonly zone: string;
  readonly healthy: WeightedSet;
  readonly all: WeightedSet;
}

/** The locality policy of a pool: where the caller is, whether its callers are known, the settings. */
export interface PoolLocality {
  readonly caller: Locality;
  /** Whether zone-aware routing may apply: the caller's own service's list was given. */
  readonly zoneAware: boolean;
  readonly policy: LocalityPolicy;
  /** One line about metadata the policy could not read. */
  readonly warn: (message: string) => void;
}

/** A plan, and the sets it draws from with their cumulative shares. */
interface Drawn {
  readonly plan: LocalityPlan;
  readonly groups: readonly LocalityGroup[];
  readonly sets: readonly WeightedSet[];
  readonly upTo: readonly number[];
}

/**
 * The endpoints a balancer picks from, kept by address and updated by what changed (an endpoint added,
 * removed or updated), never rebuilt: each endpoint's {@link EndpointRecord} (what calls taught about it),
 * candidate sets by state (serving, draining, failing, lost; maintenance is never a candidate), and the
 * serving ones grouped by priority and zone for the locality policy ({@link localityPlan}). A change
 * costs O(log n) per endpoint changed; the plan is worked out again only when a group, an ejection or
 * the callers changed.
 *
 * Weights are relative: divided by the largest declared, they stay in (0, 1] and their sums finite
 * (1e308, 1e308 and 1.7e308 share 27/27/46 %). A new largest weight, or the largest one leaving, has
 * every weight worked out again (O(n)).
 * @internal
 */
export class EndpointPool {
  readonly #locality: PoolLocality;
  readonly #slowStart: SlowStartOptions | undefined;
  readonly #weightOf: (endpoint: Endpoint) => number;
  readonly #ejectedIn: (set: WeightedSet) => number;
  readonly #ejectionEpoch: () => number;
  /** Records whose weight slow start is ramping; and when their weights were last worked out. */
  readonly #ramping = new Set<EndpointRecord>();
  #rampedAt = -Infinity;
  /** Whether a first list was applied: endpoints of later lists ramp up. */
  #listed = false;
  readonly #records = new Map<string, EndpointRecord>();
  /** Every candidate of each state. */
  readonly #tiers = new Map<string, WeightedSet>();
  /** Each record's group, by `priority|zone`; and the groups. */
  readonly #groupOf = new Map<EndpointRecord, Group>();
  readonly #groups = new Map<string, Group>();
  /** The caller's own service's live endpoints per zone, when known. */
  #callers: ReadonlyMap<string, number> | undefined;
  /** Bumped when a group's members, weights or the callers change: the plan is stale. */
  #version = 0;
  #drawn: (Drawn & { readonly version: number; readonly epoch: number }) | undefined;
  #heaviest = 0;
  /** The largest weight left: every weight must be divided again. */
  #stale = false;

  /**
   * @param locality Where the caller is, and the policy's settings.
   * @param slowStart How endpoints that arrive after the first list ramp up, if they do.
   * @param weightOf An endpoint's declared weight (positive, finite).
   * @param ejectedIn How many records of a set are ejected (the plan counts them out of health).
   * @param ejectionEpoch Changes when a record goes out or comes back in.
   */
  constructor(
    locality: PoolLocality,
    slowStart: SlowStartOptions | undefined,
    weightOf: (endpoint: Endpoint) => number,
    ejectedIn: (set: WeightedSet) => number,
    ejectionEpoch: () => number,
  ) {
    this.#locality = locality;
    this.#slowStart = slowStart;
    this.#weightOf = weightOf;
    this.#ejectedIn = ejectedIn;
    this.#ejectionEpoch = ejectionEpoch;
    for (const state of PICKABLE_STATES) {
      this.#tiers.set(state, new WeightedSet());
    }
  }

  /** How many endpoints it holds, candidates or not. */
  get size(): number {
    return this.#records.size;
  }

  get(address: string): EndpointRecord | undefined {
    return this.#records.get(address);
  }

  /** The caller's own service's list changed (`undefined`: it is known no more): its serving endpoints per zone. */
  setCallers(list: readonly Endpoint[] | undefined): void {
    this.#callers = list && servingByZone(list);
    this.#version += 1;
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
   * The set a new call picks from. While any endpoint is serving: a group drawn by the locality plan
   * (`draw` in [0, 1)), its healthy endpoints, or all of them when its priority is in panic. Else the
   * draining endpoints, else the failing ones, else the lost ones.
   */
  candidates(now: number, draw: () => number): WeightedSet {
    this.#ramp(now);
    if ((this.#tiers.get('serving') as WeightedSet).size === 0) {
      return this.fallback(now);
    }
    const { sets, upTo } = this.#drawnPlan();
    if (sets.length === 1) {
      return sets[0] as WeightedSet; // The path of nearly every pick: no draw.
    }
    const point = draw() * (upTo[upTo.length - 1] ?? 0);
    const at = upTo.findIndex((bound) => point < bound);
    return sets[at === -1 ? sets.length - 1 : at] as WeightedSet;
  }

  /** Every candidate of the best state that has any: what a retry may go to when its group has none left. */
  fallback(now: number): WeightedSet {
    this.#ramp(now);
    for (const state of PICKABLE_STATES) {
      const tier = this.#tiers.get(state) as WeightedSet;
      if (tier.size > 0) {
        return tier;
      }
    }
    return EMPTY;
  }

  /** The locality plan now, and the groups it spreads calls over. */
  plan(): { readonly plan: LocalityPlan; readonly groups: readonly LocalityGroup[] } {
    return this.#drawnPlan();
  }

  #drawnPlan(): Drawn {
    const epoch = this.#ejectionEpoch();
    const cached = this.#drawn;
    if (cached !== undefined && cached.version === this.#version && cached.epoch === epoch) {
      return cached;
    }
    const groups = [...this.#groups.values()];
    const counted = groups.map((group): LocalityGroup => {
      const healthy = group.healthy.size - this.#ejectedIn(group.healthy);
      return {
        priority: group.priority,
        zone: group.zone,
        healthy,
        total: group.all.size,
        healthyWeight:
          group.healthy.size === 0 ? 0 : (group.healthy.totalWeight * healthy) / group.healthy.size,
        totalWeight: group.all.totalWeight,
      };
    });
    const plan = localityPlan(
      counted,
      { zone: this.#locality.caller.zone, callers: this.#callers },
      this.#locality.policy,
    );
    const sets: WeightedSet[] = [];
    const upTo: number[] = [];
    let sum = 0;
    plan.shares.forEach(({ share, panic }, at) => {
      const group = groups[at] as Group;
      if (share > 0) {
        sum += share;
        sets.push(panic ? group.all : group.healthy);
        upTo.push(sum);
      }
    });
    if (sets.length === 0) {
      sets.push(this.#tiers.get('serving') as WeightedSet);
      upTo.push(1);
    }
    this.#drawn = { plan, groups: counted, sets, upTo, version: this.#version, epoch };
    return this.#drawn;
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
    return this.#tiers.get(endpointState(record.endpoint));
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
    this.#version += 1;
  }

  /** The record's weight changed (slow start ramped it): `ramp` times its share of the largest. */
  #reweigh(record: EndpointRecord): void {
    record.weight = (record.declaredWeight / this.#heaviest) * record.ramp;
    this.#setsOf(record).forEach((set) => set.reweigh(record));
  }

  /**
   * Takes `record` out of every set until the list changes it: an endpoint kept as lost (its key
   * vanished unplanned) that refused a connection is gone, not an outlier to try again.
   */
  drop(record: EndpointRecord): void {
    this.#leave(record);
  }

  /** The sets `record` is in now. */
  #setsOf(record: EndpointRecord): WeightedSet[] {
    const sets: WeightedSet[] = [];
    const tier = this.#tiers.get(endpointState(record.endpoint));
    if (tier?.has(record)) {
      sets.push(tier);
    }
    const group = this.#groupOf.get(record);
    if (group !== undefined) {
      sets.push(...[group.healthy, group.all].filter((set) => set.has(record)));
    }
    return sets;
  }

  #join(record: EndpointRecord): void {
    const state = endpointState(record.endpoint);
    this.#tiers.get(state)?.add(record);
    if (state === 'draining' || state === 'maintenance') {
      return;
    }
    const read = endpointLocality(record.endpoint);
    if (read.problem !== undefined) {
      this.#locality.warn(
        `endpoint ${escapeText(record.endpoint.address, 80)} of "${escapeText(record.endpoint.service, 80)}": ${read.problem}; balanced as if it named none`,
      );
    }
    const priority = priorityOf(read, this.#locality.caller, this.#locality.zoneAware);
    const zone = read.zone ?? '';
    const key = `${priority}|${zone}`;
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = { priority, zone, healthy: new WeightedSet(), all: new WeightedSet() };
      this.#groups.set(key, group);
    }
    this.#groupOf.set(record, group);
    group.all.add(record);
    if (state === 'serving') {
      group.healthy.add(record);
    }
    this.#version += 1;
  }

  #leave(record: EndpointRecord): void {
    this.#tiers.get(endpointState(record.endpoint))?.delete(record);
    const group = this.#groupOf.get(record);
    if (group === undefined) {
      return;
    }
    this.#groupOf.delete(record);
    group.healthy.delete(record);
    group.all.delete(record);
    if (group.all.size === 0) {
      this.#groups.delete(`${group.priority}|${group.zone}`);
    }
    this.#version += 1;
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
      tier.reweighAll();
    }
    for (const group of this.#groups.values()) {
      group.healthy.reweighAll();
      group.all.reweighAll();
    }
    this.#version += 1;
  }
}

const EMPTY = new WeightedSet();
/** How often, at most, slow start works out ramping weights again. */
const RAMP_EVERY_MS = 50;
