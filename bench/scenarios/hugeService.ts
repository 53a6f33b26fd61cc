import { Etcd3 } from 'etcd3';
import type { Subscription } from 'rxjs';
import type { Endpoint } from '../../lib';
import { connectBench } from '../connectBench';
import { hasAddress } from '../hasAddress';
import { rawEndpoint } from '../rawClient';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';
import { heapUsed, since } from '../stats';
import { writeService } from '../writeService';

export const PREFIX = 'bench-huge/';
export const SERVICE_PREFIX = `${PREFIX}services/huge/`;
const CHANGES = 20;

let populated = 0;

/** Writes the huge service, in transactions of 100 puts (unless already so). */
export async function populate(context: BenchContext): Promise<void> {
  const count = context.sizes.hugeService;
  if (populated === count) {
    return;
  }
  await writeService(context.writer, PREFIX, SERVICE_PREFIX, count);
  populated = count;
}

/**
 * A service with 100,000 endpoints. The first list: gsr's first emission vs a raw range get decoded into
 * a map kept by address. Then one change at that size delivered to 100 subscribers: gsr's 100
 * subscribers of one `endpoints$` vs a raw watcher updating its map and calling 100 listeners with it.
 * gsr must do it with a binary search and one splice, and one frozen array for all (never a re-sort or
 * a copy per subscriber). Each run times 20 changes 10 ms apart, then 20 back to back: at this size a
 * new frozen array costs ~0.5 ms to allocate, which gsr prepares after each emission, off the path of
 * the next change unless that change comes right behind.
 */
export const hugeService: Scenario = {
  name: 'huge-service',
  title: 'Huge service: 100,000 endpoints in one service',
  metrics: [
    { key: 'first', label: 'time to the first list', unit: 'ms', reduce: 'median', maxRatio: 1.2 },
    { key: 'heap', label: 'heap held', unit: 'MiB', reduce: 'median' },
    {
      key: 'change',
      label: 'one change to 100 subscribers, p50',
      unit: 'ms',
      reduce: 'p50',
      maxRatio: 1.5,
    },
    { key: 'burst', label: 'back-to-back changes, p50', unit: 'ms', reduce: 'p50' },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 5),
  prepare: populate,
  run: async (context: BenchContext, side: Side, repetition: number): Promise<Measurement> => {
    const count = context.sizes.hugeService;
    const subscribers = context.sizes.hugeSubscribers;
    let first: number;
    let heap: number;
    let stop: () => Promise<void>;
    const waiting = new Map<string, { left: number; resolve: () => void }>();
    const reached = (marker: string): void => {
      const wait = waiting.get(marker);
      if (wait !== undefined && --wait.left === 0) {
        waiting.delete(marker);
        wait.resolve();
      }
    };
    /** Resolves when every subscriber has been handed a list holding `marker`. */
    const delivered = (marker: string): Promise<void> =>
      new Promise((resolve) => waiting.set(marker, { left: subscribers, resolve }));

    if (side === 'gsr') {
      const registry = await connectBench(context, PREFIX);
      const list$ = registry.endpoints$('huge');
      const before = heapUsed();
      const start = performance.now();
      let latest: readonly Endpoint[] = [];
      const subscriptions: Subscription[] = [];
      await new Promise<void>((resolve) => {
        subscriptions.push(
          list$.subscribe((list) => {
            latest = list;
            resolve();
          }),
        );
      });
      first = since(start);
      heap = (heapUsed() - before) / 2 ** 20;
      if (latest.length !== count) {
        throw new Error(`gsr listed ${latest.length} endpoints, not ${count}`);
      }
      for (let i = 0; i < subscribers; i++) {
        subscriptions.push(
          // Each change is one emission to each subscriber, which looks the endpoint up as a
          // subscriber of a sorted list does: a binary search (the raw side's listeners look it up
          // in their map).
          list$.subscribe((list) => {
            for (const marker of waiting.keys()) {
              if (hasAddress(list, marker)) {
                reached(marker);
              }
            }
          }),
        );
      }
      stop = async () => {
        subscriptions.forEach((subscription) => subscription.unsubscribe());
        await registry.close();
      };
    } else {
      // One range of 100,000 keys is over grpc-js's 4 MiB default: as gsr, lift the limit.
      const client = new Etcd3({
        hosts: context.etcd.endpoints,
        grpcOptions: { 'grpc.max_receive_message_length': -1 },
      });
      await client.get('warm-up').string(); // connected, as gsr's registry is before it starts
      const before = heapUsed();
      const start = performance.now();
      const range = await client.getAll().prefix(SERVICE_PREFIX).exec();
      const map = new Map<string, Endpoint>();
      for (const kv of range.kvs) {
        const endpoint = rawEndpoint('huge', SERVICE_PREFIX, kv);
        map.set(endpoint.address, endpoint);
      }
      first = since(start);
      heap = (heapUsed() - before) / 2 ** 20;
      if (map.size !== count) {
        throw new Error(`raw listed ${map.size} endpoints`);
      }
      const watcher = await client
        .watch()
        .prefix(SERVICE_PREFIX)
        .startRevision(String(BigInt(range.header.revision) + 1n))
        .create();
      const listeners = Array.from(
        { length: subscribers },
        () => (endpoints: Map<string, Endpoint>) => {
          for (const marker of waiting.keys()) {
            if (endpoints.has(marker)) {
              reached(marker);
            }
          }
        },
      );
      watcher.on('put', (kv) => {
        const endpoint = rawEndpoint('huge', SERVICE_PREFIX, kv);
        map.set(endpoint.address, endpoint);
        listeners.forEach((listener) => listener(map));
      });
      stop = async () => {
        await watcher.cancel();
        client.close();
      };
    }

    const timeChange = async (marker: string): Promise<number> => {
      const arrived = delivered(marker);
      const sent = performance.now();
      await context.writer.put(`${SERVICE_PREFIX}${marker}`).value('');
      await arrived;
      return since(sent);
    };
    // One change at a time, 10 ms apart: what a large service sees (an instance comes or goes).
    const change: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      change.push(await timeChange(`marker-${side}-${repetition}-${i}:1`));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The same, back to back: each change then also waits for the previous one's copy of the list.
    const burst: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      burst.push(await timeChange(`marker-${side}-${repetition}-burst-${i}:1`));
    }
    await stop();
    await context.writer.delete().prefix(`${SERVICE_PREFIX}marker-`);
    return { first, heap, change, burst };
  },
};
