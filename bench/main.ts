/**
 * `npm run bench`: gsr against a hand-written raw etcd3 baseline, side by side, on a throwaway etcd,
 * both compiled by tsc (`tsconfig.bench.json` → `build/`), never through a transpile-on-the-fly loader.
 * Each scenario runs both sides in alternating order over several repetitions, after one uncounted
 * warm-up repetition of each; figures are medians
 * (latency percentiles pool every repetition's samples). Prints a table and writes
 * bench/results/<time>.json and bench/results/latest.json.
 *
 *   npm run bench                      the sizes (a few minutes)
 *   npm run bench -- --quick           tiny sizes: a smoke run that only proves the bench works
 *   npm run bench -- --only churn,fan-out
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { EtcdCluster } from '../lib/testing';
import { rows, table, type Row } from './report';
import type { Measurement, Scenario, Side, Sizes } from './Scenario';
import { churn, fencedRead, largeService } from './scenarios/largeService';
import { crash, overhead, slow } from './scenarios/balancing';
import { cliStart } from './scenarios/cliStart';
import { coldStart } from './scenarios/coldStart';
import { cutPastLease, etcdOutage, massDelete } from './scenarios/etcdFaults';
import { hugeChanges } from './scenarios/hugeChanges';
import { hugeService } from './scenarios/hugeService';
import { idle } from './scenarios/idle';
import { manyServices } from './scenarios/manyServices';
import { released } from './scenarios/released';
import { fanOut, propagation } from './scenarios/propagation';
import { registration } from './scenarios/registration';
import { pickCost } from './scenarios/pickCost';
import { subsetting } from './scenarios/subsetting';
import { zones, zonesUneven } from './scenarios/zones';
import { fetchInterceptor, loadAware } from './scenarios/loadAware';
import { rollingRestart } from './scenarios/rollingRestart';
import { httpSd, xdsPropagation } from './scenarios/beyondNode';

const FULL: Sizes = {
  // Large-service and churn figures are one sample per repetition: 9 keep their medians steady on a
  // noisy machine, where 5 moved them by a fifth from run to run.
  repetitions: 9,
  latencySamples: 300, // x 9 repetitions = 2,700 samples per side: a p99 of 27 samples, not 9
  fanOutSubscribers: 1000,
  fanOutSamples: 40, // x 9 = 360
  registrations: 2000,
  largeService: 10_000,
  churnChanges: 2000,
  services: 1000,
  hugeService: 100_000,
  hugeSubscribers: 100,
  releasedServices: 10_000,
  idleSeconds: 30,
  cutSeconds: 10,
  outageSeconds: 60,
  fencedReads: 30,
  cliSamples: 5,
};
const QUICK: Sizes = {
  repetitions: 1,
  latencySamples: 10,
  fanOutSubscribers: 20,
  fanOutSamples: 5,
  registrations: 50,
  largeService: 300,
  churnChanges: 60,
  services: 20,
  hugeService: 500,
  hugeSubscribers: 5,
  releasedServices: 200,
  idleSeconds: 2,
  cutSeconds: 4,
  outageSeconds: 2,
  fencedReads: 3,
  cliSamples: 1,
};
const SCENARIOS: readonly Scenario[] = [
  propagation,
  fanOut,
  registration,
  largeService,
  fencedRead,
  churn,
  manyServices,
  released,
  idle,
  hugeService,
  hugeChanges,
  crash,
  slow,
  overhead,
  fetchInterceptor,
  pickCost,
  subsetting,
  zones,
  zonesUneven,
  loadAware,
  rollingRestart,
  httpSd,
  xdsPropagation,
  cliStart,
  coldStart,
  cutPastLease,
  etcdOutage,
  massDelete,
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args[args.indexOf('--only') + 1]?.split(',');
  const sizes = quick ? QUICK : FULL;
  const scenarios = args.includes('--only')
    ? SCENARIOS.filter((s) => only?.includes(s.name))
    : SCENARIOS;

  const machine = {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    etcd: execFileSync(process.env.GSR_ETCD_BIN ?? 'etcd', ['--version'])
      .toString()
      .split('\n')[0],
  };
  console.log(
    `gsr vs raw etcd3 on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}, ${machine.etcd}`,
  );
  console.log(
    `${quick ? 'quick smoke run' : 'full run'}: ${sizes.repetitions} repetition(s), sides alternating\n`,
  );

  const etcd = await EtcdCluster.start();
  const writer = new Etcd3({ hosts: etcd.endpoints });
  const context = { etcd, writer, sizes };
  const all: Row[] = [];
  const report: unknown[] = [];
  try {
    for (const scenario of scenarios) {
      process.stdout.write(`${scenario.title} ...`);
      const results: Record<Side, Measurement[]> = { gsr: [], raw: [] };
      // Repetition -1 warms both sides up (module loading, JIT) and is not counted.
      const repetitions = scenario.repetitions?.(sizes) ?? sizes.repetitions;
      for (let repetition = -1; repetition < repetitions; repetition++) {
        const order: Side[] = repetition % 2 === 0 ? ['gsr', 'raw'] : ['raw', 'gsr'];
        for (const side of order) {
          await scenario.prepare?.(context);
          const measurement = await scenario.run(context, side, repetition);
          if (repetition >= 0) {
            results[side].push(measurement);
          }
        }
        process.stdout.write('.');
      }
      const scenarioRows = rows(scenario, results);
      all.push(...scenarioRows);
      const notes = scenario.notes?.(results) ?? [];
      report.push({
        name: scenario.name,
        title: scenario.title,
        rows: scenarioRows,
        notes,
        results,
      });
      process.stdout.write(' done\n');
      notes.forEach((note) => console.log(`  ${note}`));
    }
  } finally {
    writer.close();
    await etcd.close();
  }

  console.log(`\n${table(all)}\n`);
  const missed = all.filter((row) => row.ok === false);
  console.log(missed.length === 0 ? 'every target met' : `${missed.length} target(s) missed`);

  // build/bench/ when compiled: the results go to the repository's bench/results/.
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(
    { date: new Date().toISOString(), machine, quick, sizes, scenarios: report },
    null,
    2,
  );
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, json);
  writeFileSync(join(dir, 'latest.json'), json);
  console.log(`results: ${file}`);
}

// The run ends here, whatever the fixtures left: a scenario that black-holes connections (a TCP proxy
// cut mid-request, etcd3 clients retrying a member that is gone) can leave a socket or a timer of the
// fixtures behind, and a figure printed is a figure measured. Whether gsr itself lets a process exit
// after close() is held by the specs (jest exits by itself) and the simulation (no timer left).
main().then(
  () => process.exit(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
