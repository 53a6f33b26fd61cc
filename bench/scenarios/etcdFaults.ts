import { Etcd3, type Lease } from 'etcd3';
import winston from 'winston';
import { Balancer, Registry } from '../../lib';
import { TcpProxy } from '../../lib/testing';
import { startServer, type BenchServer } from '../httpServers';
import { rangeThenWatch } from '../rawClient';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';

const quiet = winston.createLogger({ silent: true });
const SERVICE = 'api';
const INSTANCES = 3;
const LEASE_SECONDS = 3;
/** Each call's deadline, as a client with a 2 s budget per call has it. */
const DEADLINE_MS = 2000;
/** Calls in flight at once, each started as the previous one of its lane ends (and 20 ms after). */
const LANES = 2;
const PAUSE_MS = 20;

/** One side's fleet: instances registered through proxies of their own, and a client through its own. */
interface Fleet {
  readonly servers: readonly BenchServer[];
  /** Between the instances' etcd clients and etcd: cut to cut the instances off from etcd. */
  readonly instanceProxies: readonly TcpProxy[];
  /** Between the client's etcd client and etcd. */
  readonly clientProxy: TcpProxy;
  /** The client's list size now. */
  listSize(): number;
  /** One call, through the side's client: resolves whether it was answered within its deadline. */
  call(): Promise<boolean>;
  close(): Promise<void>;
}

async function ask(address: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(`http://${address}/`, { signal });
  await response.text();
}

/** gsr: each instance's process registers with a registry of its own; the client calls through a Balancer. */
async function gsrFleet(context: BenchContext, prefix: string): Promise<Fleet> {
  const target = context.etcd.endpoints[0] ?? '';
  const servers = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => startServer(`i${i}`, 0)),
  );
  const instanceProxies = await Promise.all(servers.map(() => TcpProxy.start(target)));
  const options = { keyPrefix: prefix, leaseSeconds: LEASE_SECONDS, logger: quiet, env: {} };
  const instances = await Promise.all(
    instanceProxies.map((proxy) => Registry.connect({ ...options, etcdEndpoints: [proxy.url] })),
  );
  const registrations = instances.map((registry, i) =>
    registry.register({ service: SERVICE, address: servers[i]?.address ?? '' }).subscribe(),
  );
  const clientProxy = await TcpProxy.start(target);
  const client = await Registry.connect({ ...options, etcdEndpoints: [clientProxy.url] });
  let size = 0;
  const list$ = client.endpoints$(SERVICE);
  const sizes = list$.subscribe((list) => (size = list.length));
  const balancer = new Balancer(list$, { logger: quiet });
  return {
    servers,
    instanceProxies,
    clientProxy,
    listSize: () => size,
    call: () =>
      balancer
        .call((endpoint, signal) => ask(endpoint.address, signal), {
          signal: AbortSignal.timeout(DEADLINE_MS),
        })
        .then(
          () => true,
          () => false,
        ),
    close: async () => {
      balancer.close();
      sizes.unsubscribe();
      registrations.forEach((registration) => registration.unsubscribe());
      await Promise.all([client, ...instances].map((r) => r.close().catch(() => undefined)));
    },
  };
}

/**
 * raw etcd3 code as its README shows it: each instance puts its key on a lease (and, when the lease is
 * lost, grants another and puts again); the client keeps a list with a range and a watch, and calls
 * round-robin.
 */
async function rawFleet(context: BenchContext, prefix: string): Promise<Fleet> {
  const target = context.etcd.endpoints[0] ?? '';
  const servicePrefix = `${prefix}services/${SERVICE}/`;
  const servers = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => startServer(`i${i}`, 0)),
  );
  const instanceProxies = await Promise.all(servers.map(() => TcpProxy.start(target)));
  const clients = instanceProxies.map((proxy) => new Etcd3({ hosts: [proxy.url] }));
  const leases: Lease[] = [];
  let closed = false;
  const register = (client: Etcd3, address: string): void => {
    const lease = client.lease(LEASE_SECONDS, { autoKeepAlive: true });
    leases.push(lease);
    lease.on('lost', () => {
      if (!closed) {
        setTimeout(() => register(client, address), 100);
      }
    });
    lease
      .put(`${servicePrefix}${address}`)
      .value('')
      .catch(() => undefined); // A lost lease registers again.
  };
  clients.forEach((client, i) => register(client, servers[i]?.address ?? ''));
  const clientProxy = await TcpProxy.start(target);
  const client = new Etcd3({ hosts: [clientProxy.url] });
  const addresses = new Set<string>();
  const { range, watcher } = await rangeThenWatch(client, servicePrefix);
  range.kvs.forEach((kv) => addresses.add(kv.key.toString().slice(servicePrefix.length)));
  watcher.on('put', (kv) => addresses.add(kv.key.toString().slice(servicePrefix.length)));
  watcher.on('delete', (kv) => addresses.delete(kv.key.toString().slice(servicePrefix.length)));
  let turn = 0;
  return {
    servers,
    instanceProxies,
    clientProxy,
    listSize: () => addresses.size,
    call: async () => {
      const list = [...addresses];
      const address = list[turn++ % Math.max(list.length, 1)];
      if (address === undefined) {
        return false;
      }
      return ask(address, AbortSignal.timeout(DEADLINE_MS)).then(
        () => true,
        () => false,
      );
    },
    close: async () => {
      closed = true;
      // etcd3 waits for etcd's answer to a cancel or a revoke however long a reconnection takes.
      const bounded = (work: Promise<unknown>) =>
        Promise.race([work.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      await bounded(watcher.cancel());
      await Promise.all(leases.map((lease) => bounded(lease.revoke())));
      [client, ...clients].forEach((c) => c.close());
    },
  };
}

/** Calls in lanes until `stop()`; counts the answered and the failed. */
function callUntilStopped(fleet: Fleet): { stop(): Promise<{ ok: number; failed: number }> } {
  let running = true;
  let ok = 0;
  let failed = 0;
  const lane = async (): Promise<void> => {
    while (running) {
      if (await fleet.call()) {
        ok += 1;
      } else {
        failed += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    }
  };
  const lanes = Array.from({ length: LANES }, lane);
  return {
    stop: async () => {
      running = false;
      await Promise.all(lanes);
      return { ok, failed };
    },
  };
}

/** Resolves with the ms until `check` holds (polled every 10 ms), or `capMs` when it never did. */
async function timeUntil(check: () => Promise<boolean>, capMs: number): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > capMs) {
      return capMs;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

async function registeredKeys(context: BenchContext, prefix: string): Promise<number> {
  return (await context.writer.getAll().prefix(`${prefix}services/${SERVICE}/`).keys()).length;
}

/** Starts a side's fleet, waits until the client lists every instance, runs `fault`, closes. */
async function withFleet(
  context: BenchContext,
  side: Side,
  name: string,
  repetition: number,
  fault: (fleet: Fleet, prefix: string) => Promise<Measurement>,
): Promise<Measurement> {
  const prefix = `bench-${name}-${side}-${repetition}/`;
  const fleet = await (side === 'gsr' ? gsrFleet : rawFleet)(context, prefix);
  try {
    await timeUntil(() => Promise.resolve(fleet.listSize() === INSTANCES), 30_000);
    return await fault(fleet, prefix);
  } finally {
    await fleet.close();
    await Promise.all([fleet.clientProxy, ...fleet.instanceProxies].map((p) => p.close()));
    await Promise.all(fleet.servers.map((server) => server.kill()));
    await context.writer.delete().prefix(prefix);
  }
}

/**
 * Every instance is cut off from etcd (its network to etcd fails) for longer than its 3 s lease, while
 * it serves and the client reaches it; the client stays connected to etcd. Measured: calls that failed
 * (at a 2 s deadline each) and the smallest list the client had.
 */
export const cutPastLease: Scenario = {
  name: 'cut-past-lease',
  title: 'Instances cut off from etcd past their 3 s lease, reachable by the client',
  metrics: [
    { key: 'failed', label: 'failed calls', unit: 'count', reduce: 'median', maxValue: 0 },
    { key: 'smallest', label: 'smallest list', unit: 'count', reduce: 'median' },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 3),
  run: (context, side, repetition) =>
    withFleet(context, side, 'cut', repetition, async (fleet) => {
      const calls = callUntilStopped(fleet);
      let smallest = fleet.listSize();
      const watchSize = setInterval(() => (smallest = Math.min(smallest, fleet.listSize())), 5);
      fleet.instanceProxies.forEach((proxy) => proxy.cut('blackhole'));
      await new Promise((resolve) => setTimeout(resolve, context.sizes.cutSeconds * 1000));
      await Promise.all(fleet.instanceProxies.map((proxy) => proxy.heal()));
      await timeUntil(() => Promise.resolve(fleet.listSize() === INSTANCES), 30_000);
      clearInterval(watchSize);
      const { failed } = await calls.stop();
      return { failed, smallest };
    }),
};

/**
 * etcd unreachable for everyone (the client and every instance) for a while (60 s in the full run):
 * calls go on between live services. Measured: failed calls, and the time from etcd's return until
 * every instance's key is back.
 */
export const etcdOutage: Scenario = {
  name: 'etcd-outage',
  title: 'etcd unreachable for everyone (60 s in the full run)',
  metrics: [
    { key: 'failed', label: 'failed calls', unit: 'count', reduce: 'median', maxValue: 0 },
    { key: 'back', label: 'every key back after etcd returned', unit: 'ms', reduce: 'median' },
  ],
  notes: () => ['etcd-outage: 30,000 ms "back" means not back within 30 s'],
  repetitions: () => 1,
  run: (context, side, repetition) =>
    withFleet(context, side, 'outage', repetition, async (fleet, prefix) => {
      const calls = callUntilStopped(fleet);
      const proxies = [fleet.clientProxy, ...fleet.instanceProxies];
      proxies.forEach((proxy) => proxy.cut('blackhole'));
      await new Promise((resolve) => setTimeout(resolve, context.sizes.outageSeconds * 1000));
      await Promise.all(proxies.map((proxy) => proxy.heal()));
      const back = await timeUntil(
        async () => (await registeredKeys(context, prefix)) === INSTANCES,
        30_000,
      );
      const { failed } = await calls.stop();
      return { failed, back };
    }),
};

/**
 * Someone deletes every key of the service (`etcdctl del --prefix`, a script gone wrong) while every
 * instance is up. Measured: failed calls, and how many keys are back 3 s later.
 */
export const massDelete: Scenario = {
  name: 'mass-delete',
  title: 'Every key of the service deleted by someone else, instances up',
  metrics: [
    { key: 'failed', label: 'failed calls', unit: 'count', reduce: 'median', maxValue: 0 },
    { key: 'keys', label: 'keys back 3 s later', unit: 'count', reduce: 'median' },
  ],
  repetitions: (sizes) => Math.min(sizes.repetitions, 3),
  run: (context, side, repetition) =>
    withFleet(context, side, 'delete', repetition, async (fleet, prefix) => {
      const calls = callUntilStopped(fleet);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await context.writer.delete().prefix(`${prefix}services/${SERVICE}/`);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const keys = await registeredKeys(context, prefix);
      const { failed } = await calls.stop();
      return { failed, keys };
    }),
};
