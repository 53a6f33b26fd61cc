import { randomInt } from 'node:crypto';
import { Simulation } from './Simulation';

/**
 * Deterministic simulation of the registry's core against a simulated etcd: each seed is one schedule
 * (configuration, workload, others' writes, faults, network timing) played in virtual time, with the
 * invariants of `Simulation` checked after every event. Each run starts from a random base seed, printed,
 * so that coverage grows from run to run; a failure prints its seed. To replay one exactly, or run more:
 *
 *   GSR_SIM_SEED=<seed> npx jest spec/sim
 *   GSR_SIM_SEEDS=<n> GSR_SIM_FROM=<first seed> npx jest spec/sim
 *
 * The seeds run in chunks, each a test of its own with its own timeout: a busy machine slows a chunk, it
 * does not fail the whole run.
 */
const only = process.env.GSR_SIM_SEED;
const count = Number(process.env.GSR_SIM_SEEDS ?? 2000);
const from = Number(process.env.GSR_SIM_FROM ?? randomInt(1, 2 ** 31 - 1 - count));
const CHUNK = 250;
const seeds =
  only === undefined ? Array.from({ length: count }, (_, i) => from + i) : [Number(only)];
const chunks = Array.from({ length: Math.ceil(seeds.length / CHUNK) }, (_, i) =>
  seeds.slice(i * CHUNK, (i + 1) * CHUNK),
);

describe(`the registry, simulated (seeds from ${seeds[0] ?? from}: GSR_SIM_FROM replays them)`, () => {
  let events = 0;
  let reads = 0;
  let emissions = 0;
  let fromSnapshots = 0;
  let lostLists = 0;
  let restarts = 0;
  let restores = 0;
  const also = { peers: 0, drains: 0, leaderChanges: 0, heldWrites: 0 };
  const started = performance.now();

  beforeAll(() => {
    console.log(`simulating ${seeds.length} schedules from seed ${seeds[0] ?? from}`);
  });

  afterAll(() => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `simulated ${seeds.length} schedules from seed ${seeds[0] ?? from} in ${seconds}s: ` +
        `${events} events, ${emissions} lists (${fromSnapshots} from snapshots, ${lostLists} keeping lost endpoints) and ${reads} one-off reads checked, over ${restarts} process restarts and ${restores} etcds wiped or restored, ` +
        `${also.peers} second registries (${also.heldWrites} writes left to another lease), ` +
        `${also.drains} drains and ${also.leaderChanges} new leaders`,
    );
  });

  it.each(chunks.map((chunk) => [chunk[0], chunk.at(-1), chunk] as const))(
    'keeps its invariants over the schedules of seeds %d to %d',
    async (_first, _last, chunk) => {
      let chunkReads = 0;
      let chunkEmissions = 0;
      let chunkRestarts = 0;
      const chunkAlso = { peers: 0, drains: 0, leaderChanges: 0, heldWrites: 0 };
      for (const seed of chunk) {
        const stats = await new Simulation(seed).run();
        events += stats.events;
        chunkReads += stats.checkedReads;
        chunkEmissions += stats.checkedEmissions;
        fromSnapshots += stats.fromSnapshots;
        lostLists += stats.lostLists;
        chunkRestarts += stats.restarts;
        restores += stats.restores;
        for (const key of Object.keys(also) as (keyof typeof also)[]) {
          also[key] += stats[key];
          chunkAlso[key] += stats[key];
        }
      }
      restarts += chunkRestarts;
      reads += chunkReads;
      emissions += chunkEmissions;
      // A chunk checks something, or its invariants would pass by checking nothing.
      expect(chunkEmissions).toBeGreaterThan(0);
      if (chunk.length >= 50) {
        expect(chunkReads).toBeGreaterThan(0);
        expect(chunkRestarts).toBeGreaterThan(0); // The workload restarts processes.
        // Second registries meet ours at keys, drains, new leaders: each happens in every chunk.
        expect(Object.entries(chunkAlso).filter(([, count]) => count === 0)).toEqual([]);
      }
    },
    180_000,
  );
});
