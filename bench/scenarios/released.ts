import { Etcd3 } from 'etcd3';
import { firstValueFrom } from 'rxjs';
import { connectBench } from '../connectBench';
import { rangeThenWatch } from '../rawClient';
import { untilNoWatchers } from '../etcdWatchers';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';
import { heapUsed } from '../stats';

const ROUND = 2000;

/**
 * Service names subscribed once and released. gsr: `endpoints$` of each, kept until its first list, then
 * unsubscribed (no grace period). raw: per name a range get and a watcher, then cancelled. Measured: the
 * heap left per name once etcd has cancelled every watch, from a baseline taken after a warm-up of the
 * same work (the engine's code and pools have then reached their size: a constant, not the point).
 */
export const released: Scenario = {
  name: 'released',
  title: 'Released services: heap left after N names were watched once',
  metrics: [{ key: 'perName', label: 'heap left per released name', unit: 'B', reduce: 'median' }],
  repetitions: () => 3,
  run: async (context: BenchContext, side: Side, repetition: number): Promise<Measurement> => {
    const count = context.sizes.releasedServices;
    const prefix = `bench-released-${side}-${repetition}/`;
    let round: (tag: string, size: number) => Promise<void>;
    let stop: () => Promise<void>;
    if (side === 'gsr') {
      const registry = await connectBench(context, prefix);
      round = async (tag, size) => {
        const names = Array.from({ length: size }, (_, i) => `${tag}-${i}`);
        const subscriptions = names.map((name) => registry.endpoints$(name).subscribe());
        await Promise.all(names.map((name) => firstValueFrom(registry.endpoints$(name))));
        subscriptions.forEach((subscription) => subscription.unsubscribe());
      };
      stop = () => registry.close();
    } else {
      const client = new Etcd3({ hosts: context.etcd.endpoints });
      round = async (tag, size) => {
        const watchers = await Promise.all(
          Array.from({ length: size }, async (_, i) => {
            const servicePrefix = `${prefix}services/${tag}-${i}/`;
            return (await rangeThenWatch(client, servicePrefix)).watcher;
          }),
        );
        await Promise.all(watchers.map((watcher) => watcher.cancel()));
      };
      stop = () => {
        client.close();
        return Promise.resolve();
      };
    }
    const warmUp = Math.min(3 * ROUND, count);
    for (let done = 0; done < warmUp; done += ROUND) {
      await round(`warm-up${done}`, Math.min(ROUND, warmUp - done));
    }
    await untilNoWatchers(context);
    const before = heapUsed();
    for (let done = 0; done < count; done += ROUND) {
      await round(`r${done}`, Math.min(ROUND, count - done));
    }
    await untilNoWatchers(context);
    const perName = (heapUsed() - before) / count;
    await stop();
    return { perName };
  },
  notes: (results) => [
    `goal: at most 64 bytes per released name for gsr (median ${results.gsr
      .map((m) => (m.perName as number).toFixed(1))
      .join(', ')} B over the runs)`,
  ],
};
