import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { EtcdGrpcProxy } from '../../lib/testing/EtcdGrpcProxy';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const addresses = (list: readonly Endpoint[] | undefined) =>
  (list ?? []).map((e) => e.address).join();

describe("through etcd's gRPC proxy", () => {
  const etcd = useEtcd();
  const proxies: EtcdGrpcProxy[] = [];
  const proxy = async (): Promise<EtcdGrpcProxy> => {
    const started = await EtcdGrpcProxy.start({ endpoints: etcd.endpoints });
    proxies.push(started);
    return started;
  };
  const serverWatchers = async () =>
    (await etcd.members[0]?.metrics())?.get('etcd_debugging_mvcc_watcher_total') ?? NaN;
  /**
   * The server's watchers once the count holds still for a second: a proxy closed by the test before
   * has its watchers cancelled a moment after its connection went.
   */
  const settledWatchers = async () => {
    let last = await serverWatchers();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = await serverWatchers();
      if (now === last) {
        return now;
      }
      last = now;
    }
  };

  afterEach(() => Promise.all(proxies.splice(0).map((p) => p.close())));

  it('registers, discovers and reports health', async () => {
    const front = await proxy();
    const { registry, prefix } = await connectTest([front.url]);
    const health = record(registry.health$);
    const web = record(registry.endpoints$('web'));
    const registration = record(registry.register({ service: 'web', address: 'a:1' }));
    await eventually(() => registration.values.length === 1 && addresses(web.latest) === 'a:1');
    await etcd.raw.put(`${prefix}services/web/b:1`).value('{"z":1}');
    await eventually(() => addresses(web.latest) === 'a:1,b:1');
    expect(web.latest?.[1]).toEqual({ service: 'web', address: 'b:1', metadata: { z: 1 } });
    const lease = (await etcd.raw.get(`${prefix}services/web/a:1`).exec()).kvs[0]?.lease;
    expect(lease).toBe(registration.latest?.leaseId);
    expect(health.latest?.connected).toBe(true);
  });

  it('costs the etcd server one watcher (and one of overrides) for eight registries watching one service', async () => {
    const front = await proxy();
    const before = await settledWatchers();
    const { prefix } = await connectTest([front.url]);
    const registries = [(await connectTest([front.url], { keyPrefix: prefix })).registry];
    for (let i = 0; i < 7; i++) {
      registries.push((await connectTest([front.url], { keyPrefix: prefix })).registry);
    }
    const streams = registries.map((registry) => record(registry.endpoints$('shared')));
    await eventually(() => streams.every((s) => s.latest !== undefined));
    await etcd.raw.put(`${prefix}services/shared/x:1`).value('');
    await eventually(() => streams.every((s) => addresses(s.latest) === 'x:1'));
    await etcd.raw
      .put(`${prefix}overrides/shared/x:1`)
      .value('{"state":"maintenance","reason":"test"}');
    await eventually(() => streams.every((s) => s.latest?.[0]?.state === 'maintenance'));
    // The proxy coalesces the eight registries' watches of the service, and of operators' overrides.
    // It merges two of its watches only when one of them receives an event, the other has had an answer
    // and is not ahead, and the receiving one has fewer than five watchers (etcd's grpcproxy
    // watch_broadcasts.go). On a busy machine the writes above can come before every watch had its
    // first answer, and then nothing would merge them: write the same values again until it has.
    const rewrite = setInterval(() => {
      void etcd.raw.put(`${prefix}services/shared/x:1`).value('');
      void etcd.raw
        .put(`${prefix}overrides/shared/x:1`)
        .value('{"state":"maintenance","reason":"test"}');
    }, 1000);
    let now = NaN;
    try {
      await eventually(
        async () => (now = await serverWatchers()) === before + 2,
        30_000,
        'two watchers',
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}: ${now} watchers, ${before} before`);
      });
    } finally {
      clearInterval(rewrite);
    }
    expect(await serverWatchers()).toBe(before + 2);
    expect(streams.map((s) => s.error)).toEqual(streams.map(() => undefined));
  });

  it('keeps watching when the proxy closes the connection for pinging too often', async () => {
    // etcd 3.4's grpc-proxy takes one keepalive ping per 5 minutes (Go's default; it has no flag). A
    // client that only watches, and so hears nothing between its pings every 6 s, has its connection
    // closed with ENHANCE_YOUR_CALM within ~20 s; grpc-js reports that on the watch stream as
    // RESOURCE_EXHAUSTED. (A registration's keepalive answers would reset the proxy's count.)
    const front = await proxy();
    const { registry, prefix, logs } = await connectTest([front.url]);
    const web = record(registry.endpoints$('web'));
    await eventually(() => web.latest !== undefined);
    // Nothing else breaks the watch here.
    const broken = `watch ${prefix}services/web/ failed; retrying`;
    await eventually(
      () => web.error !== undefined || logs.some((line) => line.includes(broken)),
      40_000,
      'a close',
    );
    expect(web.error).toBeUndefined();
    await etcd.raw.put(`${prefix}services/web/b:1`).value('');
    await eventually(() => addresses(web.latest) === 'b:1', 15_000, 'watched again');
    expect(web.error).toBeUndefined();
  });

  it('resumes streams and keeps registrations when the proxy is killed and restarted within the TTL', async () => {
    const front = await proxy();
    const { registry, prefix } = await connectTest([front.url], { leaseSeconds: 10 });
    const registration = record(registry.register({ service: 'web', address: 'kept:1' }));
    const web = record(registry.endpoints$('web'));
    await eventually(() => registration.values.length === 1 && addresses(web.latest) === 'kept:1');
    await front.kill();
    await etcd.raw.put(`${prefix}services/web/during:1`).value('');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await front.start();
    await eventually(() => addresses(web.latest) === 'during:1,kept:1', 15_000, 'caught up');
    // The same lease carried the registration through.
    expect(registration.values).toHaveLength(1);
    expect((await etcd.raw.get(`${prefix}services/web/kept:1`).exec()).kvs[0]?.lease).toBe(
      registration.latest?.leaseId,
    );
    expect([web.error, registration.error]).toEqual([undefined, undefined]);
  });

  it('fails over between two proxies', async () => {
    const [first, second] = [await proxy(), await proxy()];
    const { registry, prefix } = await connectTest([first.url, second.url], { leaseSeconds: 10 });
    const registration = record(registry.register({ service: 'web', address: 'a:1' }));
    const web = record(registry.endpoints$('web'));
    await eventually(() => registration.values.length === 1 && addresses(web.latest) === 'a:1');
    await first.kill();
    await etcd.raw.put(`${prefix}services/web/b:1`).value('');
    await eventually(() => addresses(web.latest) === 'a:1,b:1', 15_000, 'through the second');
    await second.start(); // running already: a no-op
    expect(await etcd.raw.get(`${prefix}services/web/a:1`).exists()).toBe(true);
    // A new registration goes through the live proxy too.
    const more = record(registry.register({ service: 'web', address: 'c:1' }));
    await eventually(() => more.values.length === 1, 15_000, 'registered through the second');
    expect([web.error, registration.error, more.error]).toEqual([undefined, undefined, undefined]);
  });
});
