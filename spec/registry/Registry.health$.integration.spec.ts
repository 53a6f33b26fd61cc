import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

describe('health$', () => {
  const etcd = useEtcd();

  it('replays the current state to each subscriber', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const first = record(registry.health$);
    const second = record(registry.health$);
    expect(first.values).toEqual([{ connected: true, since: expect.any(Date) as Date }]);
    expect(second.values).toEqual(first.values);
  });

  it('notices an outage by itself, logs each transition once, and completes on close', async () => {
    const { registry, logs } = await connectTest(etcd.endpoints, { requestTimeoutSeconds: 0.5 });
    // Many streams notice the same outage; the log says it once.
    const streams = ['a', 'b', 'c', 'd'].map((service) => record(registry.endpoints$(service)));
    await eventually(() => streams.every((s) => s.values.length === 1));
    const health = record(registry.health$);

    await etcd.members[0]?.kill();
    await eventually(() => health.latest?.connected === false, 10_000, 'disconnected');
    expect(health.latest?.cause).toBeInstanceOf(Error);
    await etcd.members[0]?.start();
    await etcd.cluster.waitHealthy();
    await eventually(() => health.latest?.connected === true, 10_000, 'connected');

    expect(health.values.map((h) => h.connected)).toEqual([true, false, true]);
    expect(logs.filter((line) => line.includes('connection to etcd lost'))).toHaveLength(1);
    expect(logs.filter((line) => line.includes('connection to etcd restored'))).toHaveLength(1);

    await registry.close();
    expect(health.completed).toBe(true);
  });

  it('asks etcd itself while subscribed, even when nothing else talks to it', async () => {
    const own = await EtcdCluster.start();
    try {
      const { registry } = await connectTest(own.endpoints, { requestTimeoutSeconds: 0.5 });
      const health = record(registry.health$);
      await own.members[0]?.kill();
      await eventually(() => health.latest?.connected === false, 10_000, 'the probe noticed');
    } finally {
      await closeTestRegistries();
      await own.close();
    }
  });
});
