import { randomInt } from 'node:crypto';
import { BalancerSimulation } from './BalancerSimulation';

/**
 * Deterministic simulation of the Balancer (see `BalancerSimulation`): each seed is one schedule of
 * options, list changes, servers' moods and calls, in virtual time. A run starts from a random base
 * seed, printed; a failure prints its seed. To replay one, or run more:
 *
 *   GSR_SIM_SEED=<seed> npx jest spec/sim/balancer
 *   GSR_SIM_SEEDS=<n> GSR_SIM_FROM=<first seed> npx jest spec/sim/balancer
 */
const only = process.env.GSR_SIM_SEED;
const count = Number(process.env.GSR_SIM_SEEDS ?? 300);
const from = Number(process.env.GSR_SIM_FROM ?? randomInt(1, 2 ** 31 - 1 - count));
const CHUNK = 50;
const seeds =
  only === undefined ? Array.from({ length: count }, (_, i) => from + i) : [Number(only)];
const chunks = Array.from({ length: Math.ceil(seeds.length / CHUNK) }, (_, i) =>
  seeds.slice(i * CHUNK, (i + 1) * CHUNK),
);

describe(`the balancer, simulated (seeds from ${seeds[0] ?? from}: GSR_SIM_FROM replays them)`, () => {
  const totals = {
    calls: 0,
    retries: 0,
    ejections: 0,
    readmissions: 0,
    waitedOut: 0,
    rampsChecked: 0,
  };

  afterAll(() => {
    console.log(
      `simulated the balancer over ${seeds.length} schedules from seed ${seeds[0] ?? from}: ` +
        `${totals.calls} calls, ${totals.retries} retries, ${totals.ejections} ejections, ` +
        `${totals.readmissions} readmissions, ${totals.waitedOut} waits timed out, ` +
        `${totals.rampsChecked} slow starts checked`,
    );
  });

  it.each(chunks.map((chunk) => [chunk[0], chunk.at(-1), chunk] as const))(
    'keeps its invariants over the schedules of seeds %d to %d',
    async (_first, _last, chunk) => {
      let calls = 0;
      for (const seed of chunk) {
        const stats = await new BalancerSimulation(seed).run();
        calls += stats.calls;
        for (const key of Object.keys(totals) as (keyof typeof totals)[]) {
          totals[key] += stats[key];
        }
      }
      // The workload makes calls in every schedule: a run that made none checked nothing.
      expect(calls).toBeGreaterThan(chunk.length * 100);
    },
    120_000,
  );
});
