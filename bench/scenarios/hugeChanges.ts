import { Etcd3 } from 'etcd3';
import type { Subscription } from 'rxjs';
import type { Endpoint } from '../../lib';
import { connectBench } from '../connectBench';
import { rawEndpoint } from '../rawClient';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';
import { since } from '../stats';
import { populate, PREFIX, SERVICE_PREFIX } from './hugeService';

const CHANGES = 20;

/**
 * The huge service (100,000 endpoints) followed by what changes rather than by lists: 100 subscribers of
 * `registry.changes$` against a raw watcher handing each of 100 listeners the endpoint that changed.
 * One change at a time, 10 ms apart, then back to back: gsr's list is never copied for subscribers of
 * changes alone, so a change costs what changed whatever the service's size.
 */
export const hugeChanges: Scenario = {
  name: 'huge-changes',
  title: 'Huge service: 100,000 endpoints followed by changes$',
  metrics: [
    {
      key: 'change',
      label: 'one change to 100 subscribers, p50',
      unit: 'ms',
      reduce: 'p50',
      maxRatio: 1.2,
    },
    {
      key: 'burst',
      label: 'back-to-back changes, p50',
      unit: 'ms',
      reduce: 'p50',
      maxRatio: 1.2,
    },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 5),
  prepare: populate,
  run: async (context: BenchContext, side: Side, repetition: number): Promise<Measurement> => {
    const subscribers = context.sizes.hugeSubscribers;
    const waiting = new Map<string, { left: number; resolve: () => void }>();
    const reached = (address: string): void => {
      const wait = waiting.get(address);
      if (wait !== undefined && --wait.left === 0) {
        waiting.delete(address);
        wait.resolve();
      }
    };
    const delivered = (marker: string): Promise<void> =>
      new Promise((resolve) => waiting.set(marker, { left: subscribers, resolve }));
    let stop: () => Promise<void>;
    if (side === 'gsr') {
      const registry = await connectBench(context, PREFIX);
      const changes$ = registry.changes$('huge');
      const subscriptions: Subscription[] = [];
      await new Promise<void>((resolve) => subscriptions.push(changes$.subscribe(() => resolve())));
      for (let i = 0; i < subscribers; i++) {
        subscriptions.push(
          changes$.subscribe(({ added }) => added.forEach((endpoint) => reached(endpoint.address))),
        );
      }
      stop = async () => {
        subscriptions.forEach((subscription) => subscription.unsubscribe());
        await registry.close();
      };
    } else {
      const client = new Etcd3({
        hosts: context.etcd.endpoints,
        grpcOptions: { 'grpc.max_receive_message_length': -1 },
      });
      const range = await client.getAll().prefix(SERVICE_PREFIX).exec();
      const map = new Map<string, Endpoint>();
      for (const kv of range.kvs) {
        const endpoint = rawEndpoint('huge', SERVICE_PREFIX, kv);
        map.set(endpoint.address, endpoint);
      }
      const watcher = await client
        .watch()
        .prefix(SERVICE_PREFIX)
        .startRevision(String(BigInt(range.header.revision) + 1n))
        .create();
      const listeners = Array.from(
        { length: subscribers },
        () => (endpoint: Endpoint) => reached(endpoint.address),
      );
      watcher.on('put', (kv) => {
        const endpoint = rawEndpoint('huge', SERVICE_PREFIX, kv);
        map.set(endpoint.address, endpoint);
        listeners.forEach((listener) => listener(endpoint));
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
    const change: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      change.push(await timeChange(`changes-${side}-${repetition}-${i}:1`));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const burst: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      burst.push(await timeChange(`changes-${side}-${repetition}-burst-${i}:1`));
    }
    await stop();
    await context.writer.delete().prefix(`${SERVICE_PREFIX}changes-`);
    return { change, burst };
  },
};
