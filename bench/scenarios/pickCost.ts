import { BehaviorSubject } from 'rxjs';
import winston from 'winston';
import { Balancer, type Endpoint, type Strategy } from '../../lib';
import type { BenchContext, Measurement, Metric, Scenario, Side } from '../Scenario';
import { median } from '../stats';

const quiet = winston.createLogger({ silent: true });
const STRATEGIES = ['round-robin', 'random', 'least-outstanding', 'latency'] as const;

/** `count` endpoints; with `weighted`, one of them declares weight 2 (anyone who can write a key can). */
function endpoints(count: number, weighted: boolean): Endpoint[] {
  return Array.from({ length: count }, (_, i) => ({
    service: 'pick',
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`,
    ...(weighted && i === 0 && { metadata: { weight: 2 } }),
  }));
}

/** Timed batches per figure: the median batch, so that a collection or a neighbour's burst in one is not the figure. */
const BATCHES = 5;

/** Nanoseconds per `balancer.pick()`, the median of {@link BATCHES} batches of `picks`, after as many to warm up. */
function nsPerPick(list: readonly Endpoint[], strategy: Strategy<unknown>, picks: number): number {
  const balancer = new Balancer(new BehaviorSubject(list), { strategy, logger: quiet });
  // The pick alone: what the caller then reads of the endpoint is the caller's (and at 50,000 a
  // cache miss of its own, which 10 endpoints never pay).
  let sink = 0;
  for (let i = 0; i < picks; i++) {
    sink += balancer.pick() === undefined ? 0 : 1;
  }
  const batches: number[] = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < picks; i++) {
      sink += balancer.pick() === undefined ? 0 : 1;
    }
    batches.push(Number(process.hrtime.bigint() - start) / picks);
  }
  balancer.close();
  if (sink === 0) {
    throw new Error('no pick');
  }
  return median(batches);
}

const keyOf = (strategy: string, weighted: boolean, size: number) =>
  `${strategy}${weighted ? '-weighted' : ''}-${size}`;

const SIZES = [10_000, 50_000];

/**
 * What one `balancer.pick()` costs at fleet scale: for each strategy, unweighted and with one endpoint
 * of weight 2, at 10,000 and 50,000 endpoints (the gsr column) against the same strategy at 10 (the
 * "raw" column): the target is a ratio of at most 5 at 50,000 for every strategy.
 */
export const pickCost: Scenario = {
  name: 'pick',
  title: 'pick cost at 10,000 and 50,000 endpoints against 10, per strategy',
  metrics: STRATEGIES.flatMap((strategy) =>
    [false, true].flatMap((weighted) =>
      SIZES.map((size): Metric => ({
        key: keyOf(strategy, weighted, size),
        label: `${strategy}${weighted ? ', one weighted' : ''}, ${size / 1000}k vs 10`,
        unit: 'ns',
        reduce: 'median',
        ...(size === 50_000 && { maxRatio: 5 }),
      })),
    ),
  ),
  repetitions: (sizes) => Math.min(sizes.repetitions, 3),
  run: (context: BenchContext, side: Side): Promise<Measurement> => {
    const picks = context.sizes.repetitions > 1 ? 100_000 : 1000;
    const measurement: Record<string, number> = {};
    for (const strategy of STRATEGIES) {
      for (const weighted of [false, true]) {
        const small = side === 'raw' ? nsPerPick(endpoints(10, weighted), strategy, picks) : 0;
        for (const size of SIZES) {
          measurement[keyOf(strategy, weighted, size)] =
            side === 'raw' ? small : nsPerPick(endpoints(size, weighted), strategy, picks);
        }
      }
    }
    return Promise.resolve(measurement);
  },
};
