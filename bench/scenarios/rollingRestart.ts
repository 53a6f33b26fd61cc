import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { filter, firstValueFrom, type Subscription } from 'rxjs';
import winston from 'winston';
import { Balancer, type Registry } from '../../lib';
import { connectBench } from '../connectBench';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';

const quiet = winston.createLogger({ silent: true });
const SERVICE = 'rolling';
/** How long each request takes to answer: calls are in flight when an instance stops. */
const ANSWER_MS = 5;
/** Calls in flight at once, each started as the previous one of its lane ends. */
const LANES = 8;
/** The drain recipe's wait for clients to see the state: a loopback watch hop is well under it. */
const DRAIN_DELAY_MS = 300;

/** One instance: an HTTP server and the registry of its own process. */
interface Instance {
  readonly registry: Registry;
  readonly server: Server;
  readonly sockets: Set<Socket>;
  readonly registration: Subscription;
}

async function startInstance(context: BenchContext, prefix: string): Promise<Instance> {
  const sockets = new Set<Socket>();
  const server = createServer((_request, response) => {
    setTimeout(() => response.end('ok'), ANSWER_MS);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const registry = await connectBench(context, prefix, { drainDelayMs: DRAIN_DELAY_MS });
  const registration = registry.register({ service: SERVICE, address }).subscribe();
  return { registry, server, sockets, registration };
}

/**
 * Stops an instance as a process does before it exits: `today` deregisters and exits (its connections
 * reset with the process); the drain recipe drains, finishes what is in flight, then deregisters.
 */
async function stopInstance(instance: Instance, recipe: 'today' | 'drain'): Promise<void> {
  const { registry, server, sockets, registration } = instance;
  if (recipe === 'drain') {
    await registry.drain();
    await new Promise((resolve) => server.close(resolve)); // Idle connections close, busy ones finish.
    registration.unsubscribe();
    await registry.close();
    return;
  }
  registration.unsubscribe();
  await registry.close();
  server.close();
  sockets.forEach((socket) => socket.destroy()); // The process exits.
}

/**
 * A rolling restart of three HTTP instances under steady load: each in turn stopped and replaced by a
 * new one (a new port, as a new pod gets), while a client's Balancer sends calls with `retries: 0` and
 * `outlier: false`, so that nothing hides a failed call. The gsr column stops instances with the drain
 * recipe (drain, server.close(), close()); the raw column with today's recipe (unsubscribe and exit),
 * which is also what hand-written etcd3 code does (delete the key, exit).
 */
export const rollingRestart: Scenario = {
  name: 'rolling-restart',
  title:
    'rolling restart of 3 HTTP instances under load: drain recipe (gsr) vs unsubscribe-and-exit',
  metrics: [
    {
      key: 'failed',
      label: 'failed calls per restart of 3 (retries 0)',
      unit: 'count',
      reduce: 'median',
      maxValue: 0,
    },
    { key: 'calls', label: 'calls made during the restart', unit: 'count', reduce: 'median' },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 3),
  run: async (context: BenchContext, side: Side, repetition: number): Promise<Measurement> => {
    const prefix = `bench-rolling-${side}-${repetition + 1}/`;
    let instances = await Promise.all([0, 1, 2].map(() => startInstance(context, prefix)));
    const client = await connectBench(context, prefix);
    const balancer = new Balancer(client.endpoints$(SERVICE), {
      retries: 0,
      outlier: false,
      logger: quiet,
    });
    await firstValueFrom(client.endpoints$(SERVICE).pipe(filter((list) => list.length === 3)));
    let calls = 0;
    let failed = 0;
    let running = true;
    const lane = async (): Promise<void> => {
      while (running) {
        calls += 1;
        await balancer
          .call(async (endpoint, signal) => {
            const response = await fetch(`http://${endpoint.address}/`, { signal });
            await response.text();
          })
          .catch(() => (failed += 1));
      }
    };
    const lanes = Array.from({ length: LANES }, lane);
    await sleep(200);
    for (let i = 0; i < 3; i++) {
      const replacement = await startInstance(context, prefix);
      const old = instances[i] as Instance;
      instances = instances.map((instance) => (instance === old ? replacement : instance));
      await stopInstance(old, side === 'gsr' ? 'drain' : 'today');
      await sleep(200);
    }
    running = false;
    await Promise.all(lanes);
    balancer.close();
    await client.close();
    await Promise.all(instances.map((instance) => stopInstance(instance, 'today')));
    return { failed, calls };
  },
};
