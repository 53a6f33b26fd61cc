import { execFileSync } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { filter, firstValueFrom, type Subscription } from 'rxjs';
import type { Endpoint } from '../../lib';
import { orderedProgress } from '../../lib/etcd/etcd3/Etcd3Port';
import { connectBench } from '../connectBench';
import { hasAddress } from '../hasAddress';
import { rawEndpoint } from '../rawClient';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';
import { heapUsed, since } from '../stats';
import { benchAddress, writeService } from '../writeService';

export const LARGE_PREFIX = 'bench-large/';
const SERVICE_PREFIX = `${LARGE_PREFIX}services/big/`;

let pristine = false;

/** Writes the large service: `count` endpoints, a third of them with metadata (unless already so). */
async function populate(context: BenchContext): Promise<void> {
  const count = context.sizes.largeService;
  if (pristine && (await context.writer.getAll().prefix(SERVICE_PREFIX).count()) === count) {
    return;
  }
  await writeService(context.writer, LARGE_PREFIX, SERVICE_PREFIX, count, (i) =>
    i % 3 === 0 ? `{"zone":"z${i % 7}"}` : '',
  );
  pristine = true;
}

/**
 * The first list of a large service. gsr: the first emission of `endpoints$`. raw: one range get,
 * decoded into endpoint objects. Heap: what holding the result (and, for gsr, its live list) costs.
 */
export const largeService: Scenario = {
  name: 'large-service',
  title: 'Large service: the first list of a 10,000-endpoint service',
  metrics: [
    { key: 'first', label: 'time to the first list', unit: 'ms', reduce: 'median', maxRatio: 1.2 },
    { key: 'heap', label: 'heap held', unit: 'MiB', reduce: 'median' },
  ],
  prepare: populate,
  run: async (context: BenchContext, side: Side): Promise<Measurement> => {
    if (side === 'gsr') {
      const registry = await connectBench(context, LARGE_PREFIX);
      const before = heapUsed();
      let list: readonly Endpoint[] = [];
      const start = performance.now();
      let subscription: Subscription | undefined;
      await new Promise<void>((resolve) => {
        subscription = registry.endpoints$('big').subscribe((endpoints) => {
          list = endpoints;
          resolve();
        });
      });
      const first = since(start);
      const heap = (heapUsed() - before) / 2 ** 20;
      if (list.length !== context.sizes.largeService) {
        throw new Error(`gsr listed ${list.length} endpoints, not ${context.sizes.largeService}`);
      }
      subscription?.unsubscribe();
      await registry.close();
      return { first, heap };
    }
    const client = new Etcd3({ hosts: context.etcd.endpoints });
    await client.get('warm-up').string(); // connected, as gsr's registry is before it starts
    const before = heapUsed();
    const start = performance.now();
    const { kvs } = await client.getAll().prefix(SERVICE_PREFIX).exec();
    const list = kvs.map((kv) => rawEndpoint('big', SERVICE_PREFIX, kv));
    const first = since(start);
    const heap = (heapUsed() - before) / 2 ** 20;
    if (list.length !== context.sizes.largeService) {
      throw new Error(`raw listed ${list.length} endpoints`);
    }
    client.close();
    return { first, heap };
  },
};

/**
 * 2,000 changes to the large service from another client (adds, deletes, metadata changes, 20 in flight),
 * then a final marker put. Measured: how long after that last write was sent gsr's list holds the marker
 * (so every change before it), vs when a raw prefix watcher has received the marker's event.
 */
export const churn: Scenario = {
  name: 'churn',
  title: 'Churn: 2,000 changes to the 10,000-endpoint list',
  metrics: [
    {
      key: 'lag',
      label: 'right after the last write was sent',
      unit: 'ms',
      reduce: 'median',
      maxRatio: 1.5,
    },
    { key: 'total', label: 'from first write to right', unit: 'ms', reduce: 'median' },
  ],
  prepare: populate,
  run: async (context: BenchContext, side: Side, repetition: number): Promise<Measurement> => {
    const marker = `marker-${side}-${repetition}:1`;
    let seenMarker: Promise<void>;
    let stop: () => Promise<void>;
    if (side === 'gsr') {
      const registry = await connectBench(context, LARGE_PREFIX);
      const list$ = registry.endpoints$('big');
      const subscription = list$.subscribe();
      await firstValueFrom(list$);
      seenMarker = firstValueFrom(list$.pipe(filter((list) => hasAddress(list, marker)))).then(
        () => undefined,
      );
      stop = async () => {
        subscription.unsubscribe();
        await registry.close();
      };
    } else {
      const client = new Etcd3({ hosts: context.etcd.endpoints });
      const watcher = await client.watch().prefix(SERVICE_PREFIX).create();
      seenMarker = new Promise((resolve) =>
        watcher.on('put', (kv) => kv.key.toString().endsWith(marker) && resolve()),
      );
      stop = async () => {
        await watcher.cancel();
        client.close();
      };
    }

    // The same changes on both sides: every third a new endpoint, a delete, or new metadata.
    pristine = false; // The next run starts from the original list again.
    const changes = context.sizes.churnChanges;
    const base = context.sizes.largeService;
    const start = performance.now();
    for (let next = 0; next < changes; next += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, changes - next) }, (_, j) => {
          const i = next + j;
          if (i % 3 === 1) {
            return context.writer.delete().key(`${SERVICE_PREFIX}${benchAddress((i * 7) % base)}`);
          }
          const added = i % 3 === 0 ? base + i : i % base;
          return context.writer
            .put(`${SERVICE_PREFIX}${benchAddress(added)}`)
            .value(`{"rev":${i}}`);
        }),
      );
    }
    // From when the last write is sent: both sides then include the same propagation, and the
    // difference is what gsr adds. (From its acknowledgement, the figure mostly says whether etcd's
    // watch event or its reply was read first.)
    const lastWrite = performance.now();
    await context.writer.put(`${SERVICE_PREFIX}${marker}`).value('');
    await seenMarker;
    const lag = since(lastWrite);
    const total = since(start);
    await stop();
    return { lag, total };
  },
};

/**
 * A one-off read of the large service while it is watched: gsr's `endpoints('big')` with `endpoints$`
 * subscribed, which answers with every write etcd confirmed before the call (the fence: one cheap
 * request, then the live list), against a raw range get of the service decoded into endpoints. Before
 * each read another client writes elsewhere, so that etcd's revision is past the list's every time.
 */
export const fencedRead: Scenario = {
  name: 'fenced-read',
  title: 'One-off read of the watched 10,000-endpoint service (linearizable)',
  metrics: [
    {
      key: 'read',
      label: 'endpoints() against a range get',
      unit: 'ms',
      reduce: 'p50',
      maxRatio: 0.5,
    },
  ],
  prepare: populate,
  run: async (context: BenchContext, side: Side): Promise<Measurement> => {
    const samples: number[] = [];
    const reads = context.sizes.fencedReads;
    const count = context.sizes.largeService;
    if (side === 'gsr') {
      const registry = await connectBench(context, LARGE_PREFIX);
      const list$ = registry.endpoints$('big');
      const subscription = list$.subscribe();
      await firstValueFrom(list$);
      for (let i = 0; i < reads; i++) {
        await context.writer.put(`${LARGE_PREFIX}elsewhere`).value(String(i));
        const start = performance.now();
        const list = await registry.endpoints('big');
        samples.push(since(start));
        if (list.length !== count) {
          throw new Error(`gsr listed ${list.length} endpoints, not ${count}`);
        }
      }
      subscription.unsubscribe();
      await registry.close();
      return { read: samples };
    }
    const client = new Etcd3({ hosts: context.etcd.endpoints });
    await client.get('warm-up').string();
    for (let i = 0; i < reads; i++) {
      await context.writer.put(`${LARGE_PREFIX}elsewhere`).value(String(i));
      const start = performance.now();
      const { kvs } = await client.getAll().prefix(SERVICE_PREFIX).exec();
      const list = kvs.map((kv) => rawEndpoint('big', SERVICE_PREFIX, kv));
      samples.push(since(start));
      if (list.length !== count) {
        throw new Error(`raw listed ${list.length} endpoints`);
      }
    }
    client.close();
    return { read: samples };
  },
  notes: () => [
    `etcd ${etcdVersion()}: ${
      orderedProgress(etcdVersion())
        ? "progress notifications are ordered: the fence is etcd's revision, then a progress notification"
        : 'progress notifications may overtake events (etcd#15220, before 3.4.25 and 3.5.8): the fence ' +
          "counts the service's keys and those written since the list's revision (one transaction)"
    }`,
  ],
};

function etcdVersion(): string {
  const line = execFileSync(process.env.GSR_ETCD_BIN ?? 'etcd', ['--version']).toString();
  return /etcd Version: (\S+)/.exec(line)?.[1] ?? 'unknown';
}
