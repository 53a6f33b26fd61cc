import { Etcd3 } from 'etcd3';
import { connectBench } from '../connectBench';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';
import { since } from '../stats';

const WARMUP = 20;

/**
 * Measures, `samples` times, the time from a put by another client until the watching side has seen
 * the new key; the key is deleted again (unmeasured) so that the list stays small.
 *
 * gsr: `subscribers` subscriptions of one `endpoints$`, measured at the last one. raw: one etcd3 prefix
 * watcher with `subscribers` 'put' listeners, measured at the last one.
 */
async function measure(
  context: BenchContext,
  side: Side,
  repetition: number,
  subscribers: number,
  samples: number,
): Promise<number[]> {
  const prefix = `bench-propagation-${side}-${subscribers}-${repetition}/`;
  const servicePrefix = `${prefix}services/svc/`;
  let expecting: { key: string; present: boolean; resolve: () => void } | undefined;
  const check = (keys: () => Iterable<string>): void => {
    if (expecting !== undefined) {
      let present = false;
      for (const key of keys()) {
        if (key === expecting.key) {
          present = true;
          break;
        }
      }
      if (present === expecting.present) {
        expecting.resolve();
      }
    }
  };

  let stop: () => Promise<void>;
  if (side === 'gsr') {
    const registry = await connectBench(context, prefix);
    const stream$ = registry.endpoints$('svc');
    const subscriptions = Array.from({ length: subscribers }, (_, i) =>
      stream$.subscribe(
        i === subscribers - 1
          ? (list) =>
              check(function* () {
                // One kept as lost (deleted unplanned, below) is not etcd's: gone, as for raw code.
                for (const endpoint of list) {
                  if (endpoint.state !== 'lost') yield `${servicePrefix}${endpoint.address}`;
                }
              })
          : () => undefined,
      ),
    );
    stop = async () => {
      subscriptions.forEach((subscription) => subscription.unsubscribe());
      await registry.close();
    };
  } else {
    const client = new Etcd3({ hosts: context.etcd.endpoints });
    const watcher = await client.watch().prefix(servicePrefix).create();
    watcher.setMaxListeners(0);
    for (let i = 0; i < subscribers; i++) {
      const last = i === subscribers - 1;
      watcher.on('put', (kv) => last && check(() => [kv.key.toString()]));
      watcher.on('delete', (kv) => {
        if (last && expecting?.key === kv.key.toString() && !expecting.present) {
          expecting.resolve();
        }
      });
    }
    stop = async () => {
      await watcher.cancel();
      client.close();
    };
  }

  const latencies: number[] = [];
  for (let i = 0; i < samples + WARMUP; i++) {
    const key = `${servicePrefix}10.0.${i >> 8}.${i & 255}:80`;
    const seen = new Promise<void>((resolve) => (expecting = { key, present: true, resolve }));
    const start = performance.now();
    await Promise.all([context.writer.put(key).value(''), seen]);
    if (i >= WARMUP) {
      latencies.push(since(start));
    }
    const gone = new Promise<void>((resolve) => (expecting = { key, present: false, resolve }));
    await Promise.all([context.writer.delete().key(key), gone]);
  }
  expecting = undefined;
  await stop();
  return latencies;
}

export const propagation: Scenario = {
  name: 'propagation',
  title: 'Propagation latency: a put by another client until the subscriber has it',
  metrics: [
    { key: 'latency', label: 'p50', unit: 'ms', reduce: 'p50', maxRatio: 1.1 },
    { key: 'latency', label: 'p99', unit: 'ms', reduce: 'p99', maxRatio: 1.25 },
  ],
  run: async (context, side, repetition): Promise<Measurement> => ({
    latency: await measure(context, side, repetition, 1, context.sizes.latencySamples),
  }),
};

export const fanOut: Scenario = {
  name: 'fan-out',
  title: 'Fan-out: the same, with many subscribers, measured at the last one',
  metrics: [
    {
      key: 'latency',
      label: 'p50 at the last subscriber',
      unit: 'ms',
      reduce: 'p50',
      maxRatio: 1.5,
    },
  ],
  run: async (context, side, repetition): Promise<Measurement> => ({
    latency: await measure(
      context,
      side,
      repetition,
      context.sizes.fanOutSubscribers,
      context.sizes.fanOutSamples,
    ),
  }),
};
