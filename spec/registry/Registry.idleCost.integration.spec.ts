import { TcpProxy } from '../../lib/testing/TcpProxy';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/** The requests etcd received between two readings, by method, leaving out methods that got none. */
function difference(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([method, count]) => [method, count - (before[method] ?? 0)] as const)
      .filter(([, count]) => count > 0),
  );
}

describe('an idle registry', () => {
  const etcd = useEtcd();

  it('with a registration, ten watched services and health$ costs etcd the lease keepalive alone', async () => {
    const member = etcd.members[0] as NonNullable<(typeof etcd.members)[0]>;
    const { registry } = await connectTest(etcd.endpoints, { leaseSeconds: 3 });
    const health = record(registry.health$);
    const registration = record(registry.register({ service: 'svc-0', address: 'a:1' }));
    const streams = Array.from({ length: 10 }, (_, i) => record(registry.endpoints$(`svc-${i}`)));
    await eventually(
      () => registration.values.length === 1 && streams.every((s) => s.latest !== undefined),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500)); // Watches created, streams open.
    const before = await member.requestsByMethod();
    await new Promise((resolve) => setTimeout(resolve, 6500)); // Over three health probe intervals.
    const cost = difference(before, await member.requestsByMethod());
    // A keepalive every TTL/3 = 1 s; nothing else: no probe, no range, no watch request.
    expect(Object.keys(cost)).toEqual(['LeaseKeepAlive']);
    expect(cost.LeaseKeepAlive).toBeGreaterThanOrEqual(5);
    expect(cost.LeaseKeepAlive).toBeLessThanOrEqual(8);
    expect(health.values.map((h) => h.connected)).toEqual([true]);
  });

  it('with nothing open probes etcd only when nothing else proved it, with one cheap read', async () => {
    const member = etcd.members[0] as NonNullable<(typeof etcd.members)[0]>;
    const { registry } = await connectTest(etcd.endpoints);
    const health = record(registry.health$);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await member.requestsByMethod();
    await new Promise((resolve) => setTimeout(resolve, 4500));
    const cost = difference(before, await member.requestsByMethod());
    // At most one probe per 2 s interval (skipped while a recent answer proves etcd), and only reads.
    expect(Object.keys(cost)).toEqual(['Range']);
    expect(cost.Range).toBeGreaterThanOrEqual(1);
    expect(cost.Range).toBeLessThanOrEqual(3);
    expect(health.latest?.connected).toBe(true);
  });

  it('still notices a partition (a black hole, not a reset) within ~10 s while only watches are open', async () => {
    const proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
    try {
      const { registry } = await connectTest([proxy.url]);
      const health = record(registry.health$);
      const streams = Array.from({ length: 3 }, (_, i) => record(registry.endpoints$(`w-${i}`)));
      await eventually(() => streams.every((s) => s.latest !== undefined));
      await new Promise((resolve) => setTimeout(resolve, 500));
      proxy.cut('blackhole');
      // gRPC keepalive: a ping at most 6 s after the last one, answered within 3 s. Without it, a black
      // hole under watches alone is never noticed (no request times out): noticing at all is the point.
      await eventually(() => health.latest?.connected === false, 40_000, 'noticed');
      await proxy.heal();
      await eventually(() => health.latest?.connected === true, 15_000, 'recovered');
      expect(streams.every((s) => s.error === undefined)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});
