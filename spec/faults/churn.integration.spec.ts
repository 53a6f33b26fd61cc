import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import { eventually, record, type Recording } from '../support/observe';
import { repoRoot } from '../support/runNode';
import { exited } from '../support/spawnService';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/** Endpoints a list keeps as lost (expired unplanned, as `.state` says) are not etcd's: left out. */
const live = (list: readonly Endpoint[]) => list.filter((e) => e.state !== 'lost');

/**
 * A list as `address=metadata state` lines: the same form for what gsr emitted and what etcd held (read
 * through gsr's decoder: a key says draining when its instance is leaving).
 */
const fromEndpoints = (list: readonly Endpoint[]) =>
  live(list)
    .map(
      (e) =>
        `${e.address}=${e.metadata === undefined ? '' : JSON.stringify(e.metadata)} ${e.state ?? ''}`,
    )
    .join('\n');
const layout = new GsrKeyLayout('gsr/');
/** What etcd holds at `address`, in {@link fromEndpoints}'s form. */
const fromEtcd = (address: string, value: Buffer): string => {
  const decoded = layout.decodeEntry('churn', address, value);
  return 'endpoint' in decoded ? fromEndpoints([decoded.endpoint]) : `${address}=?`;
};

describe('churn under load', () => {
  const etcd = useEtcd({ members: 3 });

  it('ends with every stream equal to etcd, having emitted only real states of etcd', async () => {
    const raw = new Etcd3({ hosts: etcd.endpoints });
    const { registry: first, prefix } = await connectTest(etcd.endpoints);
    const servicePrefix = `${prefix}services/churn/`;
    const start = BigInt((await raw.getAll().prefix(servicePrefix).exec()).header.revision);

    // Many streams, on several registries, each with many subscribers.
    const observers = [
      first,
      ...(
        await Promise.all([1, 2, 3].map(() => connectTest(etcd.endpoints, { keyPrefix: prefix })))
      ).map((o) => o.registry),
    ];
    const recordings: Recording<readonly Endpoint[]>[] = [];
    for (const observer of observers) {
      for (let i = 0; i < 25; i++) {
        recordings.push(record(observer.endpoints$('churn')));
      }
    }
    const names = record(first.services$());

    const churner = (name: string, env: NodeJS.ProcessEnv): ChildProcess =>
      spawn(
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'spec', 'support', 'churningProcess.ts')],
        {
          cwd: repoRoot,
          env: {
            ...process.env,
            GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','),
            GSR_KEY_PREFIX: prefix,
            SPEC_NAME: name,
            ...env,
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
    const done = (child: ChildProcess) =>
      new Promise<void>((resolve) =>
        child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('done') && resolve()),
      );

    // A victim holds many endpoints on one lease; killed mid-churn, its lease expires and etcd deletes
    // all of them in one revision: a list with only some of them gone was never a state of etcd.
    const victim = churner('victim', {
      SPEC_POOL: '1000000',
      SPEC_OPS: '12',
      GSR_LEASE_SECONDS: '2',
    });
    await done(victim);
    const children = ['p1', 'p2', 'p3'].map((name) =>
      churner(name, { SPEC_POOL: '12', SPEC_OPS: '150' }),
    );
    try {
      victim.kill('SIGKILL');
      await Promise.all(children.map(done));
      await eventually(
        async () => (await raw.getAll().prefix(`${servicePrefix}victim-`).count()) === 0,
        10_000,
        "the victim's lease to expire",
      );

      // At the end, every stream equals etcd.
      const final = await raw.getAll().prefix(servicePrefix).exec();
      const truth = final.kvs
        .map((kv) => fromEtcd(kv.key.toString().slice(servicePrefix.length), kv.value))
        .join('\n');
      await eventually(
        () => recordings.every((r) => r.latest !== undefined && fromEndpoints(r.latest) === truth),
        15_000,
        'streams equal to etcd',
      );

      // Every list emitted on the way was etcd's state at some revision: replay etcd's history.
      const states = await statesSince(raw, servicePrefix, start, BigInt(final.header.revision));
      const emitted = new Set(recordings.flatMap((r) => r.values.map(fromEndpoints)));
      const notStates = [...emitted].filter((list) => !states.has(list));
      expect(notStates).toEqual([]);
      expect(emitted.size).toBeGreaterThan(20);
      // The victim's endpoints left together, in one revision, and every stream saw them leave so:
      // straight from all 12 to none.
      const victims = (list: readonly Endpoint[]) =>
        live(list).filter((e) => e.address.startsWith('victim-')).length;
      for (const recording of recordings) {
        const counts = recording.values.map(victims);
        const lastFull = counts.lastIndexOf(12);
        expect(lastFull).toBeGreaterThanOrEqual(0);
        expect(counts[lastFull + 1]).toBe(0);
      }
      expect(recordings.every((r) => r.error === undefined)).toBe(true);
      expect(names.latest).toEqual(truth === '' ? [] : ['churn']);

      // Graceful exits leave nothing.
      children.forEach((child) => child.kill('SIGTERM'));
      expect(await Promise.all(children.map(exited))).toEqual([0, 0, 0]);
      await eventually(() => recordings.every((r) => r.latest?.length === 0), 10_000, 'all gone');
    } finally {
      [victim, ...children].forEach((child) => child.kill('SIGKILL'));
      raw.close();
    }
  });
});

/** The prefix's state (as `fromEndpoints` writes it) after each revision from `start` to `end`. */
async function statesSince(
  raw: Etcd3,
  prefix: string,
  start: bigint,
  end: bigint,
): Promise<Set<string>> {
  const state = new Map<string, string>();
  for (const kv of (await raw.getAll().prefix(prefix).revision(String(start)).exec()).kvs) {
    const address = kv.key.toString().slice(prefix.length);
    state.set(address, fromEtcd(address, kv.value));
  }
  const serialise = () =>
    [...state]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, line]) => line)
      .join('\n');
  const states = new Set([serialise()]);
  const watcher = await raw
    .watch()
    .prefix(prefix)
    .startRevision(String(start + 1n))
    .create();
  await new Promise<void>((resolve) => {
    let revision = start;
    if (revision >= end) {
      resolve();
    }
    watcher.on('data', (response) => {
      for (const event of response.events) {
        const eventRevision = BigInt(event.kv.mod_revision);
        if (eventRevision !== revision) {
          states.add(serialise()); // The state as of the previous revision is complete.
          revision = eventRevision;
        }
        const address = event.kv.key.toString().slice(prefix.length);
        if (event.type === 'Put') {
          state.set(address, fromEtcd(address, event.kv.value));
        } else {
          state.delete(address);
        }
      }
      states.add(serialise());
      if (revision >= end) {
        resolve();
      }
    });
  });
  await watcher.cancel();
  return states;
}
