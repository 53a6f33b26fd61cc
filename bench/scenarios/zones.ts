import { BehaviorSubject, map } from 'rxjs';
import winston from 'winston';
import { Balancer, type BalancerOptions, type Endpoint, priorityLoad } from '../../lib';
import { zoneRouting } from '../../lib/locality/zoneRouting';
import type { Measurement, Scenario, Side } from '../Scenario';

const quiet = winston.createLogger({ silent: true });
/** Instances per zone: 6/3/1. */
const INSTANCES = { a: 6, b: 3, c: 1 } as const;
const PICKS = 1000;
type Zone = keyof typeof INSTANCES;
type Callers = Readonly<Record<Zone, number>>;
const ZONES = Object.keys(INSTANCES) as Zone[];

const instances = (failingInA = 0): Endpoint[] =>
  ZONES.flatMap((zone, z) =>
    Array.from({ length: INSTANCES[zone] }, (_, i) => ({
      service: 'api',
      address: `10.0.${z}.${i}:80`,
      metadata: { zone },
      ...(zone === 'a' && i < failingInA && { state: 'failing' as const }),
    })),
  );
const callerList = (counts: Callers): Endpoint[] =>
  ZONES.flatMap((zone, z) =>
    Array.from({ length: counts[zone] }, (_, i) => ({
      service: 'web',
      address: `10.1.${z}.${i}:80`,
      metadata: { zone },
    })),
  );

type Policy = 'zone-aware' | 'round-robin' | 'my-zone' | 'my-zone-first';

/** Every caller makes {@link PICKS} picks by `policy`: calls per instance, and calls that left their zone. */
function spread(
  policy: Policy,
  list: readonly Endpoint[],
  counts: Callers,
): {
  perInstance: Map<string, number>;
  crossZone: number;
  total: number;
  localOf: Map<Zone, number>;
} {
  const list$ = new BehaviorSubject<readonly Endpoint[]>(list);
  const callers$ = new BehaviorSubject<readonly Endpoint[]>(callerList(counts));
  const perInstance = new Map<string, number>(list.map((endpoint) => [endpoint.address, 0]));
  const localOf = new Map<Zone, number>();
  let crossZone = 0;
  let total = 0;
  for (const caller of callerList(counts)) {
    const zone = caller.metadata?.zone as Zone;
    const options: BalancerOptions = { logger: quiet, outlier: false };
    const balancer =
      policy === 'my-zone'
        ? // What a hand-written "always my zone" does: its zone's instances only.
          new Balancer(
            list$.pipe(map((all) => all.filter((one) => one.metadata?.zone === zone))),
            options,
          )
        : new Balancer(list$, {
            ...options,
            ...(policy === 'zone-aware' && { locality: { zone, callers$ } }),
            ...(policy === 'my-zone-first' && { locality: { zone } }),
          });
    let local = 0;
    for (let i = 0; i < PICKS; i++) {
      const picked = balancer.pick();
      if (picked === undefined) {
        continue;
      }
      total += 1;
      perInstance.set(picked.address, (perInstance.get(picked.address) ?? 0) + 1);
      if (picked.metadata?.zone === zone) {
        local += 1;
      } else {
        crossZone += 1;
      }
    }
    localOf.set(zone, (localOf.get(zone) ?? 0) + local / PICKS / counts[zone]);
    balancer.close();
  }
  return { perInstance, crossZone, total, localOf };
}

/** The busiest serving instance's calls against the mean, in percent. */
function busiest(perInstance: ReadonlyMap<string, number>, serving: number): number {
  const counts = [...perInstance.values()];
  const mean = counts.reduce((sum, n) => sum + n, 0) / serving;
  return (100 * Math.max(...counts)) / mean;
}

const SERVING = ZONES.reduce((sum, zone) => sum + INSTANCES[zone], 0);

/**
 * Three zones of 6/3/1 instances and callers in each: gsr's zone-aware routing (each caller's Balancer
 * given its zone and the callers' live list) against plain round-robin. Notes: the hand-written
 * "always my zone", and zone a losing half its instances, measured against Envoy's formulas.
 */
function zonesScenario(name: string, counts: Callers, crossZoneTarget?: number): Scenario {
  const shown = ZONES.map((zone) => counts[zone]).join('/');
  return {
    name,
    title: `zones 6/3/1 instances, ${shown} callers: gsr zone-aware vs plain round-robin`,
    metrics: [
      {
        key: 'crossZone',
        label: 'calls leaving their zone, %',
        unit: 'count',
        reduce: 'median',
        ...(crossZoneTarget !== undefined && { maxValue: crossZoneTarget }),
      },
      {
        key: 'busiest',
        label: 'busiest instance vs mean, %',
        unit: 'count',
        reduce: 'median',
        maxValue: 120,
      },
    ],
    repetitions: () => 1,
    run: (_context, side: Side): Promise<Measurement> => {
      const { perInstance, crossZone, total } = spread(
        side === 'gsr' ? 'zone-aware' : 'round-robin',
        instances(),
        counts,
      );
      return Promise.resolve({
        crossZone: Math.round((1000 * crossZone) / total) / 10,
        busiest: Math.round(busiest(perInstance, SERVING)),
      });
    },
    notes: () => {
      const mine = spread('my-zone', instances(), counts);
      const lines = [
        `"always my zone" (hand-written): ${Math.round((1000 * mine.crossZone) / mine.total) / 10} % leave their zone, busiest instance ${Math.round(busiest(mine.perInstance, SERVING))} % of the mean`,
      ];
      // Zone a loses half its instances (3 of 6 failing).
      const degraded = instances(3);
      const aware = spread('zone-aware', degraded, counts);
      const expected = zoneRouting(
        new Map([
          ['a', 3],
          ['b', 3],
          ['c', 1],
        ]),
        new Map(Object.entries(counts)),
        'a',
        6,
      );
      const expectedLocal = expected.kind === 'residual' ? expected.local : 1;
      lines.push(
        `zone a loses 3 of 6, zone-aware: zone a's callers keep ${(100 * (aware.localOf.get('a') ?? 0)).toFixed(1)} % local; Envoy's zone-aware formula: ${(100 * expectedLocal).toFixed(1)} %`,
      );
      const first = spread('my-zone-first', degraded, counts);
      const load = priorityLoad([
        { healthy: 3, total: 6 },
        { healthy: 4, total: 4 },
      ]).load[0];
      lines.push(
        `zone a loses 3 of 6, my zone first (priority 0, overprovisioning 1.4): zone a's callers keep ${(100 * (first.localOf.get('a') ?? 0)).toFixed(1)} % local; Envoy's priority load: ${load} %`,
      );
      return lines;
    },
  };
}

/** Capacity to spare: each zone has about its share of the callers (zone c a few more). */
export const zones = zonesScenario('zones', { a: 11, b: 6, c: 3 }, 10);
/** As many callers in each zone: the small zone cannot keep its own. */
export const zonesUneven = zonesScenario('zones-uneven', { a: 10, b: 10, c: 10 });
