/**
 * How a caller's calls within one priority level are spread over zones; see {@link zoneRouting}:
 * - `off`: zone-aware routing does not apply (and `why` says why): plain balancing over the level;
 * - `direct`: the caller's zone has at least its callers' share of the hosts: every call stays in it;
 * - `residual`: the caller's zone takes `local` of the calls (a fraction), and the rest goes to the
 *   other zones, each by its `spare` capacity.
 */
export type ZoneRouting =
  | { readonly kind: 'off'; readonly why: string }
  | { readonly kind: 'direct' }
  | {
      readonly kind: 'residual';
      readonly local: number;
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
