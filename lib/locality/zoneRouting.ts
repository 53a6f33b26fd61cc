/**
 * How a caller's calls within the first priority level are spread over zones, by Envoy's zone-aware
 * routing: `off` (plain balancing over the level), `direct` (every call stays in the caller's zone), or
 * `residual` (a share stays, the rest spills to zones with room).
 */
export type ZoneRouting =
  | {
      /** Zone-aware routing does not apply: plain balancing over the level. */
      readonly kind: 'off';
      /** Why, e.g. `fewer than 6 healthy endpoints`. */
      readonly why: string;
    }
  | {
      /** The caller's zone has at least its callers' share of the endpoints: every call stays in it. */
      readonly kind: 'direct';
    }
  | {
      /** The caller's zone keeps a share of the calls; the rest spills to zones with room. */
      readonly kind: 'residual';
      /** The fraction of calls kept in the caller's zone, in [0, 1). */
      readonly local: number;
      /** Each other zone's room to spare (in 1/10,000 of the endpoints): the spill goes by it. */
      readonly spare: ReadonlyMap<string, number>;
    };

/** Envoy's unit for locality percentages: hundredths of a percent. */
const WHOLE = 10_000;

/**
 * Envoy's zone-aware routing (`ZoneAwareLoadBalancerBase::regenerateLocalityRoutingStructures`), with
 * its integer arithmetic. gsr knows both sides Envoy needs: the hosts of the upstream service per zone,
 * and the callers per zone (callers register too). With `up(z)` and `callers(z)` each zone's share of
 * the healthy upstream hosts and of the callers (in 1/10,000):
 *
 * ```text
 * up(mine) ≥ callers(mine) > 0        → direct: every call stays in my zone
 * otherwise                           → residual:
 *   local       = up(mine) / callers(mine)            (the share of my calls kept in my zone)
 *   spare(z)    = max(0, up(z) − callers(z))          (z ≠ mine: what zone z can take beyond its own)
 *   the rest of my calls go to z with probability spare(z) / Σ spare
 * ```
 *
 * so that every zone, its own callers plus the spill it takes, gets calls in proportion to its hosts.
 * It is off (plain balancing) with fewer than two zones with healthy hosts, fewer than `minClusterSize`
 * healthy hosts (Envoy's default 6), or no caller known.
 *
 * @param upstream Healthy upstream hosts per zone.
 * @param callers Callers per zone (the caller's own service, Envoy's "local cluster").
 * @param mine The caller's zone.
 * @example
 * ```ts
 * zoneRouting(new Map([['a', 6], ['b', 3], ['c', 1]]), new Map([['a', 1], ['b', 1], ['c', 1]]), 'c', 6);
 * // { kind: 'residual', local: 0.3, spare: Map { 'a' => 2667, 'b' => 0 } }
 * ```
 */
export function zoneRouting(
  upstream: ReadonlyMap<string, number>,
  callers: ReadonlyMap<string, number>,
  mine: string,
  minClusterSize: number,
): ZoneRouting {
  const zones = [...upstream].filter(([, hosts]) => hosts > 0);
  const hosts = zones.reduce((sum, [, count]) => sum + count, 0);
  const callerCount = [...callers.values()].reduce((sum, count) => sum + count, 0);
  if (zones.length < 2) {
    return { kind: 'off', why: 'fewer than two zones have healthy endpoints' };
  }
  if (hosts < minClusterSize) {
    return { kind: 'off', why: `fewer than ${minClusterSize} healthy endpoints` };
  }
  if (callerCount === 0) {
    return { kind: 'off', why: 'no caller is known' };
  }
  const upShare = (zone: string): number => Math.floor((WHOLE * (upstream.get(zone) ?? 0)) / hosts);
  const callerShare = (zone: string): number =>
    Math.floor((WHOLE * (callers.get(zone) ?? 0)) / callerCount);
  const upMine = upShare(mine);
  const callersMine = callerShare(mine);
  if (upMine > 0 && upMine >= callersMine) {
    return { kind: 'direct' };
  }
  const spare = new Map<string, number>();
  for (const [zone] of zones) {
    if (zone !== mine) {
      spare.set(zone, Math.max(0, upShare(zone) - callerShare(zone)));
    }
  }
  return {
    kind: 'residual',
    // Envoy keeps this many of 10,000 calls local: whole units, as it samples them.
    local: callersMine > 0 ? Math.floor((upMine * WHOLE) / callersMine) / WHOLE : 0,
    spare,
  };
}
