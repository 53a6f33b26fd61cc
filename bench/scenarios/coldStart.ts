import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import winston from 'winston';
import { Balancer, Registry } from '../../lib';
import { TcpProxy } from '../../lib/testing';
import { startServer } from '../httpServers';
import type { Measurement, Scenario } from '../Scenario';
import { since } from '../stats';

const quiet = winston.createLogger({ silent: true });
/** How long etcd stays unreachable after the client starts. */
const OUTAGE_MS = 3000;

async function ask(address: string, signal?: AbortSignal): Promise<string> {
  const response = await fetch(`http://${address}/`, signal === undefined ? {} : { signal });
  return response.text();
}

/**
 * A client process starts while etcd is unreachable (a TCP proxy in front of it, cut), for 3 s; the
 * instance it calls is up all along. gsr: `Registry.connect()` and a `Balancer`, with the snapshot an
 * earlier run of the process left in `GSR_SNAPSHOT_DIR`. raw: etcd3 code that reads the list, then
 * calls. Measured: the time from the start to the first answered call.
 */
export const coldStart: Scenario = {
  name: 'cold-start',
  title: 'Cold start with etcd unreachable for 3 s: time to the first call',
  metrics: [
    {
      key: 'firstCall',
      label: 'start to first answered call',
      unit: 'ms',
      reduce: 'median',
      maxValue: 1000,
    },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 3),
  run: async (context, side, repetition): Promise<Measurement> => {
    const prefix = `bench-cold-${side}-${repetition}/`;
    const server = await startServer('only', 0);
    await context.writer.put(`${prefix}services/api/${server.address}`).value('');
    const proxy = await TcpProxy.start(context.etcd.endpoints[0] ?? '');
    const dir = mkdtempSync(join(tmpdir(), 'gsr-bench-snapshots-'));
    const options = {
      etcdEndpoints: [proxy.url],
      keyPrefix: prefix,
      snapshotDir: dir,
      logger: quiet,
      env: {},
    };
    try {
      if (side === 'gsr') {
        // The process ran before: its list is on disk.
        const before = await Registry.connect(options);
        await new Promise<void>((resolve) => {
          const subscription = before.endpoints$('api').subscribe((list) => {
            if (list.length > 0) {
              resolve();
              queueMicrotask(() => subscription.unsubscribe());
            }
          });
        });
        await before.close();
      }
      proxy.cut('reset');
      const healing = setTimeout(() => void proxy.heal(), OUTAGE_MS);
      const started = performance.now();
      if (side === 'gsr') {
        const registry = await Registry.connect(options);
        const balancer = new Balancer(registry.endpoints$('api'), { logger: quiet });
        await balancer.call((endpoint, signal) => ask(endpoint.address, signal));
        const firstCall = since(started);
        clearTimeout(healing);
        balancer.close();
        await registry.close().catch(() => undefined);
        return { firstCall };
      }
      // What a service does by hand: read the list, retrying every 100 ms until etcd answers, then call.
      const etcd = new Etcd3({ hosts: [proxy.url] });
      let keys: string[] | undefined;
      while (keys === undefined) {
        keys = await etcd
          .getAll()
          .prefix(`${prefix}services/api/`)
          .keys()
          .catch(
            () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 100)),
          );
      }
      await ask(keys[0]?.slice(`${prefix}services/api/`.length) ?? '');
      const firstCall = since(started);
      clearTimeout(healing);
      etcd.close();
      return { firstCall };
    } finally {
      await proxy.close();
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
