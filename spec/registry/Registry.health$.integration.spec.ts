import type { Registry } from '../../lib/registry/Registry';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { TcpProxy } from '../../lib/testing/TcpProxy';
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

/**
 * Traffic as a service makes it: lists followed (watch streams), a registration (a keepalive stream),
 * and a one-off read every 50 ms. Stops with the returned function, which says how many reads failed.
 */
function busyWith(registry: Registry): () => Promise<{ reads: number; failed: number }> {
  const subscriptions = ['a', 'b', 'c'].map((service) => registry.endpoints$(service).subscribe());
  subscriptions.push(registry.register({ service: 'a', address: '127.0.0.1:1' }).subscribe());
  const run = { stopped: false };
  let reads = 0;
  let failed = 0;
  const reading = (async () => {
    while (!run.stopped) {
      reads += 1;
      await registry.endpoints('a').catch(() => (failed += 1));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return async () => {
    run.stopped = true;
    await reading;
    subscriptions.forEach((subscription) => subscription.unsubscribe());
    return { reads, failed };
  };
}

describe('health$ when etcd is slow or the process busy: no "lost" without evidence', () => {
  const etcd = useEtcd();
  afterEach(closeTestRegistries);

  const lostLines = (logs: readonly string[]) =>
    logs.filter((line) => line.includes('connection to etcd lost'));

  it('stays connected while this process blocks its own event loop for 2 s, five times', async () => {
    const { registry, logs } = await connectTest(etcd.endpoints);
    const health = record(registry.health$);
    const stop = busyWith(registry);
    for (let block = 0; block < 5; block += 1) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        // A long synchronous task: nothing else of this process runs.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { reads } = await stop();
    expect(reads).toBeGreaterThan(5);
    expect(health.values.map((h) => h.connected)).toEqual([true]);
    expect(lostLines(logs)).toEqual([]);
  });

  it('stays connected while etcd is paused for less than the keepalive timeout, and says the late answers at debug', async () => {
    const own = await EtcdCluster.start();
    try {
      const { registry, logs } = await connectTest(own.endpoints);
      const health = record(registry.health$);
      const stop = busyWith(registry);
      await eventually(() => logs.some((line) => line.includes('registered')));
      own.members[0]?.pause();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      own.members[0]?.resume();
      // Past the next keepalive ping, which grpc-js sends on the connection the pause held up.
      await new Promise((resolve) => setTimeout(resolve, 7000));
      await stop();
      expect(health.values.map((h) => h.connected)).toEqual([true]);
      expect(lostLines(logs)).toEqual([]);
      expect(logs.some((line) => line.startsWith('debug: etcd answered late'))).toBe(true);
    } finally {
      await closeTestRegistries();
      await own.close();
    }
  });

  it('stays connected over a slow link', async () => {
    const proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
    try {
      const { registry, logs } = await connectTest([proxy.url]);
      const health = record(registry.health$);
      const stop = busyWith(registry);
      // Congested in bursts: 1.4 s a round trip against a 1 s deadline for 1.5 s, then clear, for 12 s.
      for (let burst = 0; burst < 4; burst += 1) {
        proxy.slow(700);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        proxy.slow(0);
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const { reads } = await stop();
      expect(reads).toBeGreaterThan(5);
      expect(health.values.map((h) => h.connected)).toEqual([true]);
      expect(lostLines(logs)).toEqual([]);
      // It was slow enough to matter: answers came after their deadline.
      expect(logs.some((line) => line.startsWith('debug: etcd answered late'))).toBe(true);
    } finally {
      await closeTestRegistries();
      await proxy.close();
    }
  });

  it('stays connected, and answers every read, when thousands of reads are asked at once', async () => {
    const { registry, logs } = await connectTest(etcd.endpoints);
    const health = record(registry.health$);
    const stop = busyWith(registry);
    const reads = await Promise.allSettled(
      Array.from({ length: 3000 }, (_, index) => registry.endpoints(`many-${index}`)),
    );
    await stop();
    expect(reads.filter((read) => read.status === 'rejected').slice(0, 3)).toEqual([]);
    expect(health.values.map((h) => h.connected)).toEqual([true]);
    expect(lostLines(logs)).toEqual([]);
  });

  it('says "lost" once when etcd is black-holed, dated from when it went silent, and "restored" once', async () => {
    const proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
    try {
      const { registry, logs } = await connectTest([proxy.url]);
      const health = record(registry.health$);
      const stop = busyWith(registry);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const cut = Date.now();
      proxy.cut('blackhole');
      await eventually(() => health.latest?.connected === false, 30_000, 'the loss noticed');
      // Dated from the first evidence, never before the cut.
      expect(health.latest?.since.getTime()).toBeGreaterThanOrEqual(cut - 50);
      await proxy.heal();
      await eventually(() => health.latest?.connected === true, 30_000, 'the recovery noticed');
      await stop();
      expect(health.values.map((h) => h.connected)).toEqual([true, false, true]);
      expect(lostLines(logs)).toHaveLength(1);
      expect(logs.filter((line) => line.includes('connection to etcd restored'))).toHaveLength(1);
    } finally {
      await closeTestRegistries();
      await proxy.close();
    }
  });
});
