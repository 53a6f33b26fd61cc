import { lastValueFrom, range, toArray } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import { systemClock } from '../../lib/etcd/Clock';
import { callEndpoint } from '../../lib/balancing/callEndpoint';
import type { Strategy } from '../../lib/balancing/Strategy';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { Registry } from '../../lib/registry/Registry';
import { closeServers, startServers, type TestServer } from '../support/httpServers';
import { eventually, record } from '../support/observe';
import { testLogger } from '../support/testLogger';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/** One HTTP request to the endpoint, as an application makes it. */
async function ask(endpoint: Endpoint, signal: AbortSignal): Promise<string> {
  const response = await fetch(`http://${endpoint.address}/`, { signal });
  return response.text();
}

describe('a balancer over real HTTP servers registered in real etcd', () => {
  const etcd = useEtcd();
  let registry: Registry;
  const { logger, lines } = testLogger();

  beforeEach(async () => {
    lines.splice(0);
    registry = (await connectTest(etcd.endpoints)).registry;
  });
  afterEach(closeServers);

  /** Registers each server (a separate registry, as a separate process would) and waits until listed. */
  async function register(servers: readonly TestServer[]): Promise<void> {
    const { registry: serving } = await connectTest(etcd.endpoints, {
      keyPrefix: registry.config.keyPrefix,
      leaseSeconds: 30, // a crashed server's key outlives the test
    });
    const registrations = servers.map((server) =>
      record(serving.register({ service: 'svc', address: server.address })),
    );
    await eventually(() => registrations.every((r) => r.values.length === 1));
    const list = record(registry.endpoints$('svc'));
    await eventually(() => list.latest?.length === servers.length);
    list.subscription.unsubscribe();
  }

  it('loses no call when an instance crashes, and sends its dead endpoint at most a probe per interval', async () => {
    const servers = await startServers(['one', 'two', 'three']);
    await register(servers);
    const balancer = new Balancer(registry.endpoints$('svc'), { logger });
    const dead = servers[0] as TestServer;
    const attempts: string[] = [];
    const failures: unknown[] = [];
    const call = () =>
      balancer
        .call((endpoint, signal) => {
          attempts.push(endpoint.address);
          return ask(endpoint, signal);
        })
        .catch((error: unknown) => failures.push(error));

    for (let i = 0; i < 30; i++) {
      await call();
    }
    await dead.kill(); // SIGKILL-like: its key stays in etcd until its lease expires
    attempts.splice(0);
    const killedAt = Date.now();
    for (let i = 0; i < 150; i++) {
      await call();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seconds = (Date.now() - killedAt) / 1000;
    expect(failures).toEqual([]);
    // Ejected on its first refusal; then one trial after 2 s, 4 s, 8 s...
    const toDead = attempts.filter((address) => address === dead.address).length;
    expect(toDead).toBeGreaterThanOrEqual(1);
    expect(toDead).toBeLessThanOrEqual(1 + Math.ceil(seconds / 2));
    expect(balancer.stats().find((s) => s.endpoint.address === dead.address)?.ejected).toBe(true);
    expect(balancer.endpoints).toHaveLength(3); // etcd still lists it
    balancer.close();
  });

  // The slow instance is 100× slower than the others' own delay: however busy the machine makes every
  // answer, it stays clearly the slowest (at 20×, a loaded machine's overhead closed the gap).
  it.each<[Strategy<unknown>, number, number]>([
    ['round-robin', 0.25, 0.42],
    ['least-outstanding', 0, 0.2],
    ['latency', 0, 0.1],
  ])(
    'with one instance 100× slower, %s sends it a share of %f to %f',
    async (strategy, least, most) => {
      const servers = await startServers(['fast-1', 'fast-2', 'slow'], 2);
      const slow = servers[2] as TestServer;
      slow.delayMs = 200;
      await register(servers);
      const answers = await lastValueFrom(
        range(0, 240).pipe(
          callEndpoint(
            registry.endpoints$('svc'),
            (_i, endpoint, signal) => ask(endpoint, signal),
            {
              strategy,
              concurrency: 6,
              logger,
            },
          ),
          toArray(),
        ),
      );
      expect(answers).toHaveLength(240);
      const share = slow.served / 240;
      expect(share).toBeGreaterThanOrEqual(least);
      expect(share).toBeLessThanOrEqual(most);
    },
  );

  it("spreads calls over zones by Envoy's zone-aware rule, from this registry's own registration (registry.locality())", async () => {
    const servers = await startServers(['a0', 'b0', 'b1', 'b2']);
    const { registry: serving } = await connectTest(etcd.endpoints, {
      keyPrefix: registry.config.keyPrefix,
    });
    const zoneOf = (name: string): string => name.slice(0, 1);
    const registrations = [
      ...servers.map((server) =>
        record(
          serving.register({
            service: 'svc',
            address: server.address,
            metadata: { zone: zoneOf(server.name) },
          }),
        ),
      ),
      // The callers: this process in zone a, another caller in zone b.
      record(
        registry.register({ service: 'web', address: '10.0.0.1:80', metadata: { zone: 'a' } }),
      ),
      record(serving.register({ service: 'web', address: '10.0.0.2:80', metadata: { zone: 'b' } })),
    ];
    await eventually(() => registrations.every((r) => r.values.length === 1));
    const locality = registry.locality();
    expect(locality).toMatchObject({ zone: 'a', region: undefined });
    let draw = 0;
    const balancer = new Balancer(registry.endpoints$('svc'), {
      logger,
      locality: { ...locality, minClusterSize: 4 },
      clock: { ...systemClock, random: () => (draw++ % 100) / 100 },
    });
    await eventually(
      () => balancer.endpoints.length === 4 && balancer.locality().routing.kind === 'residual',
    );
    // Zone a has 25 % of the servers and 50 % of the callers: it keeps half of this caller's calls,
    // and zone b, with room to spare, takes the rest.
    expect(balancer.locality().routing).toMatchObject({ kind: 'residual', local: 0.5 });
    for (let i = 0; i < 100; i++) {
      await balancer.call((endpoint, signal) => ask(endpoint, signal));
    }
    const served = Object.fromEntries(servers.map((server) => [server.name, server.served]));
    expect(served.a0).toBe(50);
    expect((served.b0 ?? 0) + (served.b1 ?? 0) + (served.b2 ?? 0)).toBe(50);
    balancer.close();
    registrations.forEach((r) => r.subscription.unsubscribe());
  });
});
