import { Etcd3, type Watcher } from 'etcd3';
import { filter, firstValueFrom, of } from 'rxjs';
import winston from 'winston';
import { Balancer, type Endpoint, Registry, type Strategy } from '../../lib';
import { connectBench } from '../connectBench';
import { type BenchServer, startServer } from '../httpServers';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';
import { quantile, since } from '../stats';

const quiet = winston.createLogger({ silent: true });

/** One HTTP request, as an application makes it. */
async function ask(endpoint: { address: string }, signal?: AbortSignal): Promise<string> {
  const response = await fetch(
    `http://${endpoint.address}/`,
    signal === undefined ? {} : { signal },
  );
  return response.text();
}

/** How each side calls: gsr through a Balancer; raw by hand-written round-robin over a watched list. */
interface Caller {
  call(): Promise<void>;
  close(): Promise<void>;
}

/** Three servers registered under `prefix` by a registry of their own (a 30 s lease: a crash stays listed). */
async function serve(context: BenchContext, prefix: string, delays: readonly number[]) {
  const servers = await Promise.all(delays.map((delay, i) => startServer(`s${i}`, delay)));
  const registry = await Registry.connect({
    etcdEndpoints: context.etcd.endpoints,
    keyPrefix: prefix,
    leaseSeconds: 30,
    logLevel: 0,
    env: {},
  });
  const registrations = servers.map((server) =>
    registry.register({ service: 'svc', address: server.address }).subscribe(),
  );
  await firstValueFrom(
    registry.endpoints$('svc').pipe(filter((list) => list.length === servers.length)),
  );
  return {
    servers,
    stop: async () => {
      registrations.forEach((registration) => registration.unsubscribe());
      await registry.close();
      await Promise.all(servers.map((server) => server.kill().catch(() => undefined)));
    },
  };
}

/** The client side: gsr's Balancer (with `strategy`), or raw etcd3 code doing round-robin. */
async function client(
  context: BenchContext,
  side: Side,
  prefix: string,
  strategy: Strategy<unknown>,
  attempts: string[],
): Promise<Caller> {
  if (side === 'gsr') {
    const registry = await connectBench(context, prefix);
    const balancer = new Balancer(registry.endpoints$('svc'), { strategy, logger: quiet });
    await firstValueFrom(registry.endpoints$('svc'));
    return {
      call: () =>
        balancer
          .call((endpoint, signal) => {
            attempts.push(endpoint.address);
            return ask(endpoint, signal);
          })
          .then(() => undefined),
      close: async () => {
        balancer.close();
        await registry.close();
      },
    };
  }
  // What a service does without outcomes: keep the list from a watch and take each address in turn.
  const etcd = new Etcd3({ hosts: context.etcd.endpoints });
  const servicePrefix = `${prefix}services/svc/`;
  const list = new Set<string>();
  const range = await etcd.getAll().prefix(servicePrefix).keys();
  range.forEach((key) => list.add(key.slice(servicePrefix.length)));
  const watcher: Watcher = await etcd.watch().prefix(servicePrefix).create();
  watcher.on('put', (kv) => list.add(kv.key.toString().slice(servicePrefix.length)));
  watcher.on('delete', (kv) => list.delete(kv.key.toString().slice(servicePrefix.length)));
  let turn = 0;
  return {
    call: () => {
      const addresses = [...list];
      const address = addresses[turn++ % addresses.length] ?? '';
      attempts.push(address);
      return ask({ address }).then(() => undefined);
    },
    close: async () => {
      await watcher.cancel();
      etcd.close();
    },
  };
}

/**
 * Three HTTP servers registered in etcd and a client calling them 100 times a second; one server is
 * killed without deregistering (its key stays until its lease expires). gsr: a Balancer with its
 * defaults (retries, ejection). raw: round-robin over the watched list, as a service does today.
 * Measured: calls that failed for the user, and attempts sent to the dead server per 2 s (the first
 * ejection interval), over the 4 s after the kill.
 */
export const crash: Scenario = {
  name: 'crash',
  title: 'Crash: one of three servers killed, calls at 100/s',
  metrics: [
    { key: 'failures', label: 'calls that failed for the user', unit: 'count', reduce: 'median' },
    {
      key: 'toDead',
      label: 'attempts to the dead server per 2 s',
      unit: 'count',
      reduce: 'median',
    },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 3),
  run: async (context, side, repetition): Promise<Measurement> => {
    const prefix = `bench-crash-${side}-${repetition}/`;
    const { servers, stop } = await serve(context, prefix, [0, 0, 0]);
    const attempts: string[] = [];
    const caller = await client(context, side, prefix, 'round-robin', attempts);
    let failures = 0;
    const run = async (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        await caller.call().catch(() => (failures += 1));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    await run(300);
    failures = 0;
    const dead = servers[0] as BenchServer;
    await dead.kill();
    attempts.splice(0);
    await run(context.sizes.repetitions === 1 ? 1000 : 4000);
    const seconds = context.sizes.repetitions === 1 ? 1 : 4;
    const toDead = (attempts.filter((address) => address === dead.address).length * 2) / seconds;
    await caller.close();
    await stop();
    return { failures, toDead };
  },
  notes: (results) => [
    `goal: no call fails for gsr's user (failures per run: ${results.gsr.map((m) => String(m.failures)).join(', ')}; round-robin: ${results.raw.map((m) => String(m.failures)).join(', ')}), and at most 3 attempts to the dead server per ejection interval`,
  ],
};

/**
 * Three servers, one answering 20× slower (200 ms against 10 ms: a millisecond-scale service would
 * measure this machine's own pauses more than the servers); a client keeps 8 calls in flight. gsr:
 * the latency strategy (and, in the notes, least-outstanding). raw: round-robin. Measured: the slow
 * server's share of the calls, and the client's p99 latency.
 */
export const slow: Scenario = {
  name: 'slow',
  title: 'Slow: one of three servers 20x slower, 8 calls in flight',
  metrics: [
    { key: 'share', label: "slow server's share of the calls", unit: 'count', reduce: 'median' },
    { key: 'latency', label: 'client p99', unit: 'ms', reduce: 'p99', maxRatio: 0.3 },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 3),
  run: async (context, side, repetition): Promise<Measurement> => {
    const measure = async (strategy: Strategy<unknown>, tag: string) => {
      const prefix = `bench-slow-${side}-${repetition}-${tag}/`;
      const { servers, stop } = await serve(context, prefix, [10, 10, 200]);
      const caller = await client(context, side, prefix, strategy, []);
      const latency: number[] = [];
      const calls = context.sizes.repetitions === 1 ? 80 : 1200;
      let next = 0;
      const worker = async () => {
        while (next++ < calls) {
          const started = performance.now();
          await caller.call();
          latency.push(since(started));
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      const share =
        (servers[2] as BenchServer).served / servers.reduce((sum, s) => sum + s.served, 0);
      await caller.close();
      await stop();
      return { share: share * 100, latency };
    };
    const measured = await measure(side === 'gsr' ? 'latency' : 'round-robin', 'main');
    if (side === 'gsr') {
      const leastOutstanding = await measure('least-outstanding', 'least-outstanding');
      return {
        ...measured,
        leastShare: leastOutstanding.share,
        leastP99: quantile(leastOutstanding.latency, 0.99),
      };
    }
    return measured;
  },
  notes: (results) => [
    `slow server's share (%): latency ${results.gsr.map((m) => (m.share as number).toFixed(1)).join('/')}, least-outstanding ${results.gsr.map((m) => (m.leastShare as number).toFixed(1)).join('/')}, round-robin ${results.raw.map((m) => (m.share as number).toFixed(1)).join('/')} (goal for latency: at most 10)`,
    `client p99 with least-outstanding: ${results.gsr.map((m) => (m.leastP99 as number).toFixed(1)).join('/')} ms`,
  ],
};

/**
 * What `balancer.call` costs: sequential calls to one local server, gsr through a Balancer over its
 * endpoint, raw a bare `fetch` to the same fixed address.
 */
export const overhead: Scenario = {
  name: 'overhead',
  title: 'Overhead: balancer.call against a bare fetch',
  metrics: [{ key: 'call', label: 'one call, p50', unit: 'ms', reduce: 'p50', maxRatio: 1.05 }],
  repetitions: (sizes) => Math.min(sizes.repetitions, 5),
  run: async (context, side): Promise<Measurement> => {
    const server = await startServer('only', 0);
    const fixed: readonly Endpoint[] = [{ service: 'svc', address: server.address }];
    const balancer = new Balancer<unknown>(of(fixed), { logger: quiet });
    const calls = context.sizes.repetitions === 1 ? 50 : 2000;
    const call =
      side === 'gsr'
        ? () => balancer.call((endpoint) => ask(endpoint)) // the same request as raw's
        : () => ask({ address: server.address });
    for (let i = 0; i < 50; i++) {
      await call(); // warm: the connection is open, as it would be
    }
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const started = performance.now();
      await call();
      times.push(since(started));
    }
    balancer.close();
    await server.kill();
    return { call: times };
  },
};
