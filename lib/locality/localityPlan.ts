import type { LocalityPolicy } from './LocalityPolicy';
import { priorityLoad, type PriorityLoad } from './priorityLoad';
import { zoneRouting, type ZoneRouting } from './zoneRouting';

/**
 * The endpoints of one priority in one zone, as counts and weights: the healthy ones (may take calls
 * now) and all of them (what a level in panic calls).
 */
export interface LocalityGroup {
  readonly priority: number;
  /** The zone, `''` for endpoints that name none. */
  readonly zone: string;
  readonly healthy: number;
  readonly total: number;
  readonly healthyWeight: number;
  readonly totalWeight: number;
}

/** What a caller knows of itself: its zone, and how many callers like it there are per zone. */
export interface CallerView {
  readonly zone?: string | undefined;
  /** The caller's own service's live endpoints per zone (Envoy's "local cluster"), when known. */
  readonly callers?: ReadonlyMap<string, number> | undefined;
}

/** A group's share of new calls, and whether it is in panic (all its endpoints, healthy or not, take them). */
export interface GroupShare {
  readonly share: number;
  readonly panic: boolean;
}

/** How a caller spreads calls over groups; see {@link localityPlan}. */
export interface LocalityPlan {
  /** Each group's share (parallel to the groups given), summing to 1 when any group has endpoints. */
  readonly shares: readonly GroupShare[];
  /** The priority levels present, lowest first, and the load on each. */
  readonly levels: readonly number[];
  readonly load: PriorityLoad;
  /** How the first level spreads over zones. */
  readonly routing: ZoneRouting;
}

/**
 * How one caller spreads new calls over groups of endpoints, Envoy's way, in two steps: priority load
 * over the priority levels ({@link priorityLoad}: overprovisioning, normalisation, panic), then within
 * the first level zone-aware routing ({@link zoneRouting}) when the caller's zone and callers are known
 * and the level is not in panic. Elsewhere a level's share goes to its groups by their healthy weight
 * (all their weight, in panic), as a pick over all of the level's endpoints would.
 *
 * One implementation, two consumers: gsr's `Balancer` draws a group by these shares for each call, and
 * the xDS server sends them to each client as locality weights (gRPC clients do no overprovisioning).
 *
 * @example
 * ```ts
 * const plan = localityPlan(
 *   [
 *     { priority: 0, zone: 'a', healthy: 1, total: 2, healthyWeight: 1, totalWeight: 2 },
 *     { priority: 1, zone: 'b', healthy: 2, total: 2, healthyWeight: 2, totalWeight: 2 },
 *   ],
 *   { zone: 'a' },
 *   DEFAULT_LOCALITY_POLICY,
 * );
 * plan.shares; // [{ share: 0.7, panic: false }, { share: 0.3, panic: false }]
 * ```
 */
export function localityPlan(
  groups: readonly LocalityGroup[],
  caller: CallerView,
  policy: LocalityPolicy,
): LocalityPlan {
  const levels = [...new Set(groups.map((group) => group.priority))].sort((a, b) => a - b);
  const load = priorityLoad(
    levels.map((level) => {
      let healthy = 0;
      let total = 0;
      for (const group of groups) {
        if (group.priority === level) {
          healthy += group.healthy;
          total += group.total;
        }
      }
      return { healthy, total };
    }),
    policy.overprovisioningFactor,
    policy.panicThreshold,
  );
  const shares: GroupShare[] = groups.map(() => ({ share: 0, panic: false }));
  let routing: ZoneRouting = { kind: 'off', why: 'no endpoint serves' };
  levels.forEach((level, index) => {
    const panic = load.panic[index] ?? false;
    const levelShare = (load.load[index] ?? 0) / 100;
    const members = groups.flatMap((group, at) => (group.priority === level ? [at] : []));
    const weightOf = (at: number): number => {
      const group = groups[at] as LocalityGroup;
      return panic ? group.totalWeight : group.healthyWeight;
    };
    if (index === 0) {
      routing = firstLevelRouting(groups, members, caller, policy, panic);
    }
    const byZone = index === 0 ? zoneShares(routing, groups, members, caller) : undefined;
    for (const at of members) {
      const group = groups[at] as LocalityGroup;
      const within =
        byZone === undefined
          ? spread(members, weightOf, at)
          : zoneFraction(byZone, members, weightOf, at, group.zone, groups);
      shares[at] = { share: levelShare * within, panic };
    }
  });
  return { shares, levels, load, routing };
}

function firstLevelRouting(
  groups: readonly LocalityGroup[],
  members: readonly number[],
  caller: CallerView,
  policy: LocalityPolicy,
  panic: boolean,
): ZoneRouting {
  if (caller.zone === undefined) {
    return { kind: 'off', why: 'the caller names no zone' };
  }
  if (caller.callers === undefined) {
    return { kind: 'off', why: 'the callers are not known' };
  }
  if (panic) {
    return { kind: 'off', why: 'the first priority is in panic' };
  }
  const upstream = new Map<string, number>();
  for (const at of members) {
    const group = groups[at] as LocalityGroup;
    upstream.set(group.zone, (upstream.get(group.zone) ?? 0) + group.healthy);
  }
  return zoneRouting(upstream, caller.callers, caller.zone, policy.minClusterSize);
}

/** Each zone's fraction of the first level's calls, or `undefined` when routing is off. */
function zoneShares(
  routing: ZoneRouting,
  groups: readonly LocalityGroup[],
  members: readonly number[],
  caller: CallerView,
): ReadonlyMap<string, number> | undefined {
  if (routing.kind === 'off') {
    return undefined;
  }
  const mine = caller.zone ?? '';
  if (routing.kind === 'direct') {
    return new Map([[mine, 1]]);
  }
  const fractions = new Map<string, number>([[mine, routing.local]]);
  const rest = 1 - routing.local;
  const spare = [...routing.spare.values()].reduce((sum, value) => sum + value, 0);
  if (spare > 0) {
    for (const [zone, value] of routing.spare) {
      fractions.set(zone, (fractions.get(zone) ?? 0) + (rest * value) / spare);
    }
    return fractions;
  }
  // No zone has room to spare (rounding, or callers everywhere): Envoy then picks any zone at random.
  const zones = [
    ...new Set(
      members
        .map((at) => groups[at] as LocalityGroup)
        .filter((group) => group.healthy > 0)
        .map((group) => group.zone),
    ),
  ];
  for (const zone of zones) {
    fractions.set(zone, (fractions.get(zone) ?? 0) + rest / zones.length);
  }
  return fractions;
}

/** `at`'s fraction of its level: its weight's share of the members' (by count when none weighs). */
function spread(members: readonly number[], weightOf: (at: number) => number, at: number): number {
  const total = members.reduce((sum, member) => sum + weightOf(member), 0);
  return total > 0 ? weightOf(at) / total : 0;
}

/** `at`'s fraction of the first level: its zone's fraction, shared with any other group of that zone. */
function zoneFraction(
  byZone: ReadonlyMap<string, number>,
  members: readonly number[],
  weightOf: (at: number) => number,
  at: number,
  zone: string,
  groups: readonly LocalityGroup[],
): number {
  const sameZone = members.filter((member) => (groups[member] as LocalityGroup).zone === zone);
  return (byZone.get(zone) ?? 0) * spread(sameZone, weightOf, at);
}
