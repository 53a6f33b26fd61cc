import { Etcd3, Range } from 'etcd3';
import { PermissionDeniedError } from '../../lib/errors/PermissionDeniedError';
import { RegistryClosedError } from '../../lib/errors/RegistryClosedError';
import { ValidationError } from '../../lib/errors/ValidationError';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { TcpProxy } from '../../lib/testing/TcpProxy';
import { enableEtcdAuth } from '../support/etcdAuth';
import { eventually, nextMatching, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const addresses = (list: readonly Endpoint[] | undefined): string[] =>
  (list ?? []).map((e) => e.address);

describe('endpoints$', () => {
  const metric = async (name: string): Promise<number> =>
    (await etcd.members[0]?.metrics())?.get(name) ?? NaN;
  const watchers = () => metric('etcd_debugging_mvcc_watcher_total');

  const etcd = useEtcd();

  it('discovers endpoints the Go gsr registered, as they are', async () => {
    // The Go gsr's layout: default prefix gsr/, empty value.
    await etcd.raw.put('gsr/services/data-access/172.16.28.24:10000').value('');
    await etcd.raw.put('gsr/services/data-access/172.16.28.25:10000').value('');
    const { registry } = await connectTest(etcd.endpoints, { keyPrefix: 'gsr/' });
    const list = await nextMatching(registry.endpoints$('data-access'), () => true);
    expect(list).toEqual([
      { service: 'data-access', address: '172.16.28.24:10000' },
      { service: 'data-access', address: '172.16.28.25:10000' },
    ]);
    await etcd.raw.delete().prefix('gsr/');
  });

  it('emits the current list first, even when empty', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    expect(await nextMatching(registry.endpoints$('nobody'), () => true)).toEqual([]);
  });

  it('never lists a neighbour service whose name starts the same', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    for (const service of ['web', 'webapp', 'web-admin', 'we']) {
      await etcd.raw.put(`${prefix}services/${service}/10.0.0.1:80`).value('');
    }
    const web = record(registry.endpoints$('web'));
    await eventually(() => web.values.length > 0);
    await etcd.raw.put(`${prefix}services/webapp/10.0.0.2:80`).value('');
    await etcd.raw.put(`${prefix}services/web/10.0.0.3:80`).value('');
    await eventually(() => web.latest?.length === 2);
    expect(web.values.flat().every((e) => e.service === 'web')).toBe(true);
    expect(addresses(web.latest)).toEqual(['10.0.0.1:80', '10.0.0.3:80']);
  });

  it('emits a new frozen, sorted array only when endpoints or metadata change', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const key = (address: string) => `${prefix}services/api/${address}`;
    const api = record(registry.endpoints$('api'));
    await eventually(() => api.values.length === 1);
    // Each change waits for its list before the next write: changes that arrive together (a busy
    // machine) are applied as one. A write that must not emit is followed by one that must, which
    // would come after the emission it should not have caused.
    await etcd.raw.put(key('10.0.0.9:80')).value('');
    await eventually(() => api.values.length === 2);
    await etcd.raw.put(key('10.0.0.1:80')).value('{"zone":"a"}');
    await eventually(() => api.values.length === 3);
    await etcd.raw.put(key('10.0.0.1:80')).value('{"zone":"a"}'); // same value: no emission
    await etcd.raw.put(key('10.0.0.1:80')).value('{"zone":"b"}');
    await eventually(() => JSON.stringify(api.latest).includes('"zone":"b"'));
    await etcd.raw.delete().key(key('10.0.0.9:80'));
    await eventually(() => api.latest?.length === 1);
    await etcd.raw.delete().key(key('10.0.0.5:80')); // never existed: no emission
    await etcd.raw.put(key('10.0.0.2:80')).value('');
    await eventually(() => api.latest?.length === 2);
    expect(api.values.slice(0, -1)).toEqual([
      [],
      [{ service: 'api', address: '10.0.0.9:80' }],
      [
        { service: 'api', address: '10.0.0.1:80', metadata: { zone: 'a' } },
        { service: 'api', address: '10.0.0.9:80' },
      ],
      [
        { service: 'api', address: '10.0.0.1:80', metadata: { zone: 'b' } },
        { service: 'api', address: '10.0.0.9:80' },
      ],
      [{ service: 'api', address: '10.0.0.1:80', metadata: { zone: 'b' } }],
    ]);
    expect(api.values.every((list) => Object.isFrozen(list))).toBe(true);
    expect(new Set(api.values).size).toBe(api.values.length);
  });

  it('shares one etcd watch between all subscribers of a service', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const before = await watchers();
    const recordings = Array.from({ length: 50 }, () => record(registry.endpoints$('shared')));
    await eventually(() => recordings.every((r) => r.values.length === 1));
    // The service's watch, and the registry's one watch of operators' overrides: created after the
    // first list is emitted (from its revision), so etcd may count them a moment later.
    await eventually(async () => (await watchers()) === before + 2, 5000, 'two watches');
    expect(await watchers()).toBe(before + 2);
    await etcd.raw.put(`${prefix}services/shared/a`).value('');
    await eventually(() => recordings.every((r) => r.latest?.length === 1));
    // Every subscriber holds the very same array.
    expect(new Set(recordings.map((r) => r.latest)).size).toBe(1);
    expect(await watchers()).toBe(before + 2);
  });

  it('gives a late subscriber the current list at once, without asking etcd', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/late/a`).value('');
    const early = record(registry.endpoints$('late'));
    await eventually(() => early.latest?.length === 1);
    const ranges = await metric('etcd_mvcc_range_total');
    const late = record(registry.endpoints$('late'));
    expect(late.values).toEqual([[{ service: 'late', address: 'a' }]]); // synchronously
    expect(await metric('etcd_mvcc_range_total')).toBe(ranges);
  });

  it('keeps the watch through the grace period: a subscriber back within it is served at once', async () => {
    // A grace period no test run outlasts: what is asserted cannot depend on how fast etcd answers.
    const { registry } = await connectTest(etcd.endpoints, { watchGracePeriodMs: 60_000 });
    const before = await watchers();
    const first = record(registry.endpoints$('kept'));
    await eventually(() => first.values.length === 1);
    // Created after the first list (from its revision): etcd may count them a moment later.
    await eventually(async () => (await watchers()) === before + 2, 5000, 'two watches');
    first.subscription.unsubscribe();
    expect(await watchers()).toBe(before + 2); // The service's and the overrides', both kept warm.
    const ranges = await metric('etcd_mvcc_range_total');
    const back = record(registry.endpoints$('kept'));
    expect(back.values).toEqual([[]]); // synchronously, from the list kept warm
    expect(await metric('etcd_mvcc_range_total')).toBe(ranges);
    expect(await watchers()).toBe(before + 2);
  });

  it('cancels the watch once the grace period is over, and starts afresh for the next', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { watchGracePeriodMs: 300 });
    const before = await watchers();
    const first = record(registry.endpoints$('fleeting'));
    const second = record(registry.endpoints$('fleeting'));
    await eventually(() => second.values.length === 1);
    first.subscription.unsubscribe();
    second.subscription.unsubscribe();
    await eventually(async () => (await watchers()) === before, 5000, 'watch released');
    await etcd.raw.put(`${prefix}services/fleeting/x`).value('');
    const again = await nextMatching(registry.endpoints$('fleeting'), () => true);
    expect(addresses(again)).toEqual(['x']);
  });

  it('ends with etcd’s list after a burst of writes that races a new subscription', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const key = (i: number) => `${prefix}services/burst/10.1.0.${i}:80`;
    const writes = (async () => {
      for (let i = 0; i < 300; i++) {
        const n = i % 40;
        if (i % 3 === 2) {
          await etcd.raw.delete().key(key(n));
        } else {
          await etcd.raw.put(key(n)).value(`{"i":${i}}`);
        }
      }
    })();
    await eventually(
      async () => (await etcd.raw.getAll().prefix(`${prefix}services/burst/`).count()) > 0,
    );
    const burst = record(registry.endpoints$('burst')); // while the burst goes on
    await writes;
    const truth = (await etcd.raw.getAll().prefix(`${prefix}services/burst/`).keys()).map((k) =>
      k.slice(`${prefix}services/burst/`.length),
    );
    await eventually(() => addresses(burst.latest).join() === [...truth].sort().join());
    const final = await etcd.raw.getAll().prefix(`${prefix}services/burst/`).strings();
    expect(burst.latest?.map((e) => [e.address, JSON.stringify(e.metadata)])).toEqual(
      Object.entries(final)
        .map(([k, v]) => [k.slice(`${prefix}services/burst/`.length), v])
        .sort(([a], [b]) => ((a ?? '') < (b ?? '') ? -1 : 1)),
    );
  });

  it('logs and skips malformed keys and non-JSON values, and never errors for them', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/messy/good`).value('');
    await etcd.raw.put(`${prefix}services/messy/a/b`).value('');
    await etcd.raw.put(`${prefix}services/messy/odd`).value('{not json');
    const messy = record(registry.endpoints$('messy'));
    await eventually(() => messy.values.length === 1);
    await etcd.raw.put(`${prefix}services/messy/c/d/e`).value('');
    await etcd.raw.put(`${prefix}services/messy/later`).value('[1,2]');
    await eventually(() => messy.latest?.length === 3);
    expect(messy.latest).toEqual([
      { service: 'messy', address: 'good' },
      { service: 'messy', address: 'later' },
      { service: 'messy', address: 'odd' },
    ]);
    expect(messy.error).toBeUndefined();
    expect(logs).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`skipping malformed key "${prefix}services/messy/a/b"`),
        expect.stringContaining(`skipping malformed key "${prefix}services/messy/c/d/e"`),
        expect.stringContaining(`ignoring the metadata of ${prefix}services/messy/odd`),
        expect.stringContaining(`ignoring the metadata of ${prefix}services/messy/later`),
      ]),
    );
  });

  it('errors with a ValidationError for a service name it cannot watch', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    for (const bad of ['', 'a/b', 'has space', '..']) {
      const recording = record(registry.endpoints$(bad));
      expect(recording.error).toBeInstanceOf(ValidationError);
    }
  });

  it('completes when the registry is closed, and refuses new subscribers after', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const stream = registry.endpoints$('closing');
    const recording = record(stream);
    await eventually(() => recording.values.length === 1);
    await registry.close();
    expect(recording.completed).toBe(true);
    expect(record(stream).error).toBeInstanceOf(RegistryClosedError);
    expect(record(registry.endpoints$('other')).error).toBeInstanceOf(RegistryClosedError);
  });

  it('keeps its list through an etcd restart, then catches up', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/sturdy/a`).value('');
    const sturdy = record(registry.endpoints$('sturdy'));
    await eventually(() => sturdy.latest?.length === 1);
    const member = etcd.members[0];
    await member?.kill();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await member?.start();
    await etcd.cluster.waitHealthy();
    await etcd.raw.put(`${prefix}services/sturdy/b`).value('');
    await eventually(() => sturdy.latest?.length === 2, 15_000, 'caught up after restart');
    expect(sturdy.error).toBeUndefined();
    expect(sturdy.completed).toBe(false);
    expect(sturdy.values.map(addresses)).toEqual([['a'], ['a', 'b']]);
    expect(logs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^warn: connection to etcd lost/),
        expect.stringMatching(/^warn: connection to etcd restored/),
      ]),
    );
  });

  it('re-reads the list when etcd compacted past its revision while it was cut off', async () => {
    const proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
    try {
      const { registry, prefix, logs } = await connectTest([proxy.url]);
      const key = (address: string) => `${prefix}services/compacted/${address}`;
      await etcd.raw.put(key('stays')).value('');
      await etcd.raw.put(key('goes')).value('');
      const compacted = record(registry.endpoints$('compacted'));
      await eventually(() => compacted.latest?.length === 2);

      proxy.cut();
      await etcd.raw.delete().key(key('goes'));
      await etcd.raw.put(key('new')).value('{"v":1}');
      for (let i = 0; i < 20; i++) {
        await etcd.raw.put(`${prefix}unrelated`).value(String(i));
      }
      const { header } = await etcd.raw.put(key('newest')).value('');
      await etcd.raw.kv.compact({ revision: header.revision, physical: true });
      await proxy.heal();

      await eventually(
        () => addresses(compacted.latest).join() === 'new,newest,stays',
        15_000,
        'converged after compaction',
      );
      expect(compacted.latest?.find((e) => e.address === 'new')?.metadata).toEqual({ v: 1 });
      expect(compacted.error).toBeUndefined();
      expect(compacted.values.map(addresses).some((list) => list.includes('goes'))).toBe(true);
      expect(logs).toContainEqual(
        expect.stringContaining(`etcd cancelled the watch on ${prefix}services/compacted/`),
      );
    } finally {
      await proxy.close();
    }
  });

  describe('with etcd authentication', () => {
    let secured: EtcdCluster;
    beforeAll(async () => {
      secured = await EtcdCluster.start();
      await enableEtcdAuth(secured.endpoints, 'rootpw', [
        { name: 'svc', password: 'pw', readWritePrefix: 'gsr/' },
      ]);
    });
    afterAll(async () => {
      await secured.close();
    });

    it('errors with a PermissionDeniedError when the user may not read the service', async () => {
      const { registry } = await connectTest(secured.endpoints, {
        keyPrefix: 'gsr/',
        etcdUsername: 'svc',
        etcdPassword: 'pw',
      });
      // The user may read gsr/, so connect() succeeded; now take that away.
      const root = new Etcd3({
        hosts: secured.endpoints,
        auth: { username: 'root', password: 'rootpw' },
      });
      await root.role('svc-role').revoke({ permission: 'Readwrite', range: Range.prefix('gsr/') });
      root.close();
      const denied = record(registry.endpoints$('web'));
      await eventually(() => denied.error !== undefined);
      expect(denied.error).toBeInstanceOf(PermissionDeniedError);
      expect((denied.error as PermissionDeniedError).key).toBe('gsr/services/web/');
    });
  });
});
