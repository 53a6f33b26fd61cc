/** A priority level's hosts: how many may take calls now, out of how many there are. */
export interface LevelHealth {
  /** How many of its hosts may take calls now (serving, not ejected). */
  readonly healthy: number;
  /** How many hosts it has, healthy or not. */
  readonly total: number;
}

/** How calls are spread over priority levels; see {@link priorityLoad}. */
export interface PriorityLoad {
  /** Each level's share of calls in whole percents, summing to 100 (all of it to level 0 when no level has hosts). */
  readonly load: readonly number[];
  /** Whether each level is in panic: its share goes to all of its hosts, healthy or not. */
  readonly panic: readonly boolean[];
}

/**
 * Envoy's priority load, with its integer arithmetic, so that gsr spreads calls exactly as an Envoy
 * configured the same way would (`LoadBalancerBase::recalculatePriorityLoad` and `…PerPriorityPanic`):
 *
 * ```text
 * health(P)      = min(100, ⌊factor% × healthy(P) / total(P)⌋)          factor% = 140 for 1.4
 * normalized     = min(100, Σ health)
 * load(P)        = min(100 − Σ load(<P), ⌊health(P) × 100 / normalized⌋)
 *                  (what rounding leaves goes to the first level with health)
 * panic(P)       = normalized < 100 and 100 × healthy(P) / total(P) < panicThreshold
 * ```
 *
 * With no healthy host anywhere every level is in panic and the load follows the number of hosts per
 * level (Envoy's "total panic").
 *
 * @param levels Each level's hosts, level 0 first.
 * @param overprovisioningFactor How much more than it needs each level can take (Envoy's default 1.4).
 * @param panicThreshold Below this percent of healthy hosts a level in need is in panic (default 50).
 * @example
 * ```ts
 * priorityLoad([{ healthy: 1, total: 2 }, { healthy: 2, total: 2 }]); // { load: [70, 30], panic: [false, false] }
 * ```
 */
export function priorityLoad(
  levels: readonly LevelHealth[],
  overprovisioningFactor = 1.4,
  panicThreshold = 50,
): PriorityLoad {
  if (levels.length === 0) {
    return { load: [], panic: [] };
  }
  const factor = Math.round(overprovisioningFactor * 100);
  const health = levels.map(({ healthy, total }) =>
    total > 0 ? Math.min(100, Math.floor((factor * healthy) / total)) : 0,
  );
  const normalized = Math.min(
    100,
    health.reduce((sum, value) => sum + value, 0),
  );
  const threshold = Math.min(100, panicThreshold);
  if (normalized === 0) {
    return totalPanic(levels);
  }
  let remaining = 100;
  const load = health.map((value) => {
    const share = Math.min(remaining, Math.floor((value * 100) / normalized));
    remaining -= share;
    return share;
  });
  const first = health.findIndex((value) => value > 0);
  load[first] = (load[first] ?? 0) + remaining;
  return {
    load,
    // A level is never in panic while the levels together can take every call.
    panic: levels.map(
      ({ healthy, total }) =>
        normalized < 100 && (total > 0 ? (100 * healthy) / total : 0) < threshold,
    ),
  };
}

/** No healthy host anywhere: every level in panic, each loaded by its share of all hosts. */
function totalPanic(levels: readonly LevelHealth[]): PriorityLoad {
  const hosts = levels.reduce((sum, { total }) => sum + total, 0);
  const load = levels.map(({ total }) => (hosts > 0 ? Math.floor((100 * total) / hosts) : 0));
  const first = Math.max(
    0,
    levels.findIndex(({ total }) => total > 0),
  );
  load[first] = (load[first] ?? 0) + 100 - load.reduce((sum, value) => sum + value, 0);
  return { load, panic: levels.map(() => true) };
}
