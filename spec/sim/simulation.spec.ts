import { Simulation } from './Simulation';

/**
 * Deterministic simulation of the registry's core against a simulated etcd: each seed is one schedule
 * (configuration, workload, others' writes, faults, network timing) played in virtual time, with the
 * invariants of `Simulation` checked after every event. A failure prints its seed; to replay it exactly:
 *
 *   GSR_SIM_SEED=<seed> npx jest spec/sim
 *
 * `GSR_SIM_SEEDS=<n>` runs n seeds (from GSR_SIM_FROM, 1 by default) instead of the 2,000 that npm test runs.
 */
const only = process.env.GSR_SIM_SEED;
const count = Number(process.env.GSR_SIM_SEEDS ?? 2000);
const from = Number(process.env.GSR_SIM_FROM ?? 1);
const seeds =
  only === undefined ? Array.from({ length: count }, (_, i) => from + i) : [Number(only)];

describe('the registry, simulated', () => {
  it(`keeps its invariants over ${seeds.length} seeded schedules`, async () => {
    let events = 0;
    let reads = 0;
    let emissions = 0;
    const started = performance.now();
    for (const seed of seeds) {
      const stats = await new Simulation(seed).run();
      events += stats.events;
      reads += stats.checkedReads;
      emissions += stats.checkedEmissions;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `simulated ${seeds.length} schedules in ${seconds}s: ${events} events, ${emissions} lists and ` +
        `${reads} one-off reads checked`,
    );
    expect(reads).toBeGreaterThan(0);
    expect(emissions).toBeGreaterThan(0);
  }, 120_000);
});
