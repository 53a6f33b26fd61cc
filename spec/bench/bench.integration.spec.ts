import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBuild } from '../support/requireBuild';
import { repoRoot, runNode } from '../support/runNode';

const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

// A smoke run with tiny sizes keeps the bench from rotting. Its figures mean nothing and are not
// asserted: tests assert behaviour, never speed.
describe('npm run bench -- --quick', () => {
  it('runs every scenario for gsr and raw etcd3, compiled, and reports them', async () => {
    // As `npm run bench` does: compiled by tsc, never a transpile-on-the-fly loader (the CLI rows run
    // dist/, which npm test builds).
    requireBuild();
    const build = await runNode([tsc, '-p', 'tsconfig.bench.json'], { timeoutMs: 120_000 });
    expect(build.stdout + build.stderr).toBe('');
    const run = await runNode(['--expose-gc', 'build/bench/main.js', '--quick'], {
      timeoutMs: 260_000,
    });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.code).toBe(0);
    for (const row of [
      'propagation: p50',
      'propagation: p99',
      'fan-out: p50 at the last subscriber',
      'registration: time for all',
      'large-service: time to the first list',
      'fenced-read: endpoints() against a range get',
      'churn: right after the last write was sent',
      'many-services: gRPC watch streams opened',
      'many-services: heap per service',
      'released: heap left per released name',
      'idle: lease keepalives per minute',
      'idle: other requests per minute',
      'huge-service: time to the first list',
      'huge-service: one change to 100 subscribers, p50',
      'huge-changes: back-to-back changes, p50',
      'crash: calls that failed for the user',
      'slow: client p99',
      'overhead: one call, p50',
      'fetch: one request, p50',
      'pick: random, one weighted, 50k vs 10',
      'subset: connections per server, most',
      'zones: calls leaving their zone, %',
      'zones: busiest instance vs mean, %',
      'zones-uneven: busiest instance vs mean, %',
      'load-aware: p99 latency',
      'load-aware: utilization, busiest / idlest x100',
      'rolling-restart: failed calls per restart of 3 (retries 0)',
      'cli-start: gsr --version vs node -e 0',
      'cli-start: gsr endpoints vs etcdctl get --prefix',
      'cli-start: gsr endpoints vs a raw etcd3 script',
      'cold-start: start to first answered call',
      'cut-past-lease: failed calls',
      'cut-past-lease: smallest list',
      'etcd-outage: failed calls',
      'etcd-outage: every key back after etcd returned',
      'mass-delete: failed calls',
      'mass-delete: keys back 3 s later',
    ]) {
      expect(run.stdout).toContain(row);
    }
    expect(run.stdout).toMatch(
      /gsr watched 20 services \(and operators' overrides\) over 1 gRPC watch stream/,
    );

    const results = JSON.parse(
      readFileSync(join(repoRoot, 'bench', 'results', 'latest.json'), 'utf8'),
    ) as { quick: boolean; scenarios: { name: string; rows: { gsr: number; raw: number }[] }[] };
    expect(results.quick).toBe(true);
    expect(results.scenarios.map((s) => s.name)).toEqual([
      'propagation',
      'fan-out',
      'registration',
      'large-service',
      'fenced-read',
      'churn',
      'many-services',
      'released',
      'idle',
      'huge-service',
      'huge-changes',
      'crash',
      'slow',
      'overhead',
      'fetch',
      'pick',
      'subset',
      'zones',
      'zones-uneven',
      'load-aware',
      'rolling-restart',
      'http-sd',
      'xds-propagation',
      'cli-start',
      'cold-start',
      'cut-past-lease',
      'etcd-outage',
      'mass-delete',
    ]);
    for (const row of results.scenarios.flatMap((s) => s.rows)) {
      expect(Number.isFinite(row.gsr) && Number.isFinite(row.raw)).toBe(true);
    }
  }, 300_000); // Compiling the bench and running its 28 scenarios once, on a busy CI machine.
});
