import { Etcd3, type Watcher } from 'etcd3';
import { firstValueFrom, type Subscription } from 'rxjs';
import { connectBench } from '../connectBench';
import { rangeThenWatch } from '../rawClient';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';
import { heapUsed, since } from '../stats';

const metric = async (context: BenchContext, name: string): Promise<number> =>
  (await context.etcd.members[0]?.metrics())?.get(name) ?? NaN;

/**
 * N services watched from one process, each with one endpoint. gsr: `endpoints$` of each (kept
 * subscribed). raw: per service, a range get into a map and a watcher from the next revision that keeps
 * it (what hand-written code needs for a correct live list). Measured: time until all N have their first list, etcd watchers and
 * gRPC watch streams opened (from etcd's metrics), and heap per service.
 */
export const manyServices: Scenario = {
  name: 'many-services',
  title: 'Many services watched from one process',
  metrics: [
    { key: 'ready', label: 'time until all have a list', unit: 'ms', reduce: 'median' },
    { key: 'allWatching', label: 'time until all are watched', unit: 'ms', reduce: 'median' },
    {
      key: 'heapPerService',
      label: 'heap per service',
      unit: 'KiB',
      reduce: 'median',
      maxRatio: 2.5,
    },
    { key: 'watchers', label: 'etcd watchers opened', unit: 'count', reduce: 'median' },
    { key: 'streams', label: 'gRPC watch streams opened', unit: 'count', reduce: 'median' },
  ],
  prepare: async (context) => {
    const prefix = 'bench-many/services/';
    if ((await context.writer.getAll().prefix(prefix).count()) !== context.sizes.services) {
      await context.writer.delete().prefix('bench-many/');
      for (let i = 0; i < context.sizes.services; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, context.sizes.services - i) }, (_, j) =>
            context.writer.put(`${prefix}svc-${i + j}/10.0.0.1:80`).value(''),
          ),
        );
      }
    }
  },
  run: async (context: BenchContext, side: Side): Promise<Measurement> => {
    const count = context.sizes.services;
    const names = Array.from({ length: count }, (_, i) => `svc-${i}`);
    // The previous run's cancellations must have landed, or they would count against this one.
    const deadline = Date.now() + 10_000;
    while (
      (await metric(context, 'etcd_debugging_mvcc_watcher_total')) > 0 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const watchersBefore = await metric(context, 'etcd_debugging_mvcc_watcher_total');
    const streamsBefore = await metric(context, 'etcd_debugging_mvcc_watch_stream_total');
    let stop: () => Promise<void>;
    let before: number;
    let start: number;
    if (side === 'gsr') {
      const registry = await connectBench(context, 'bench-many/');
      before = heapUsed();
      start = performance.now();
      const subscriptions: Subscription[] = names.map((name) =>
        registry.endpoints$(name).subscribe(),
      );
      await Promise.all(names.map((name) => firstValueFrom(registry.endpoints$(name))));
      stop = async () => {
        subscriptions.forEach((subscription) => subscription.unsubscribe());
        await registry.close();
      };
    } else {
      const client = new Etcd3({ hosts: context.etcd.endpoints });
      await client.get('warm-up').string();
      before = heapUsed();
      start = performance.now();
      // What hand-written code needs for a correct live list: a range get, a map kept by address,
      // and a watcher from the next revision that updates it.
      const watchers: Watcher[] = await Promise.all(
        names.map(async (name) => {
          const prefix = `bench-many/services/${name}/`;
          const { range, watcher } = await rangeThenWatch(client, prefix);
          const list = new Map<string, string>();
          for (const kv of range.kvs) {
            list.set(kv.key.toString().slice(prefix.length), kv.value.toString());
          }
          watcher.on('put', (kv) =>
            list.set(kv.key.toString().slice(prefix.length), kv.value.toString()),
          );
          watcher.on('delete', (kv) => list.delete(kv.key.toString().slice(prefix.length)));
          return watcher;
        }),
      );
      stop = async () => {
        await Promise.all(watchers.map((watcher) => watcher.cancel()));
        client.close();
      };
    }
    const ready = since(start);
    // gsr's lists are ready before every watch is created (etcd3 creates them one round trip at a
    // time, and each starts after its list's revision): wait for them all before counting.
    const until = Date.now() + 30_000;
    while (
      (await metric(context, 'etcd_debugging_mvcc_watcher_total')) - watchersBefore < count &&
      Date.now() < until
    ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const allWatching = since(start);
    const heapPerService = (heapUsed() - before) / count / 1024;
    const watchers = (await metric(context, 'etcd_debugging_mvcc_watcher_total')) - watchersBefore;
    const streams =
      (await metric(context, 'etcd_debugging_mvcc_watch_stream_total')) - streamsBefore;
    await stop();
    return { ready, allWatching, heapPerService, watchers, streams };
  },
  notes: (results) => {
    const streams = results.gsr.map((m) => m.streams);
    return [
      // One watch is the registry's own, of operators' overrides, beside the services'.
      `gsr watched ${String(Number(results.gsr[0]?.watchers) - 1)} services (and operators' overrides) over ${streams.join('/')} gRPC watch stream(s) per run` +
        ` (target: a single stream)`,
    ];
  },
};
