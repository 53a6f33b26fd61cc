import { Etcd3 } from 'etcd3';
import { RegistryClosedError } from '../../lib/errors/RegistryClosedError';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/** "While at least one registration of an endpoint is live anywhere, its key exists." */
describe('register: a live registration keeps its key', () => {
  const leaseOf = async (key: string) => (await etcd.raw.get(key).exec()).kvs[0]?.lease;
  const valueOf = (key: string) => etcd.raw.get(key).string();
  const modRevisionOf = async (key: string) =>
    (await etcd.raw.get(key).exec()).kvs[0]?.mod_revision;

  const etcd = useEtcd();

  it('writes it on its own lease when another registry that held it leaves', async () => {
    const a = await connectTest(etcd.endpoints);
    const b = await connectTest(etcd.endpoints, { keyPrefix: a.prefix });
    const key = `${a.prefix}services/shared/10.0.0.1:80`;
    const held = record(b.registry.register({ service: 'shared', address: '10.0.0.1:80' }));
    await eventually(() => held.values.length === 1);
    const waiting = record(a.registry.register({ service: 'shared', address: '10.0.0.1:80' }));
    const witness = record(a.registry.register({ service: 'other', address: 'x:1' }));
    await eventually(() => witness.values.length === 1);
    expect(waiting.values).toEqual([]); // B's live key is left to B.

    // B's delete is ownership-checked and B holds the key: it goes. A is live: it writes it.
    held.subscription.unsubscribe();
    await eventually(() => waiting.values.length === 1, 10_000, 'A wrote it');
    expect(waiting.latest).toMatchObject({ leaseId: witness.latest?.leaseId });
    expect(await leaseOf(key)).toBe(waiting.latest?.leaseId);
    expect(waiting.error).toBeUndefined();
  });

  it('writes it again when someone deletes it by hand', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const key = `${prefix}services/sturdy/a:1`;
    const registration = record(registry.register({ service: 'sturdy', address: 'a:1' }));
    await eventually(() => registration.values.length === 1);
    await etcd.raw.delete().key(key);
    await eventually(() => registration.values.length === 2, 10_000, 'written again');
    expect(registration.latest?.reregistered).toBe(true);
    expect(await leaseOf(key)).toBe(registration.latest?.leaseId);
  });

  it('puts its value and lease back after a plain put over its key, and deletes it when it ends', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const key = `${prefix}services/edited/a:1`;
    const registration = record(
      registry.register({ service: 'edited', address: 'a:1', metadata: { v: 1 } }),
    );
    await eventually(() => registration.values.length === 1);
    // An operator's `etcdctl put` of new metadata: no lease.
    await etcd.raw.put(key).value('{"v":2}');
    await eventually(
      async () => (await leaseOf(key)) === registration.latest?.leaseId,
      10_000,
      'put back on its lease',
    );
    expect(await valueOf(key)).toBe('{"v":1}');
    expect(registration.latest?.reregistered).toBe(true);
    await registry.unregister({ service: 'edited', address: 'a:1' });
    expect(await etcd.raw.get(key).exists()).toBe(false);
  });

  it('puts its own value back over a foreign value under the etcd-naming layout', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { keyLayout: 'etcd-naming' });
    const key = `${prefix}greeter/a:1`;
    const registration = record(registry.register({ service: 'greeter', address: 'a:1' }));
    await eventually(() => registration.values.length === 1);
    await etcd.raw.put(key).value('{"Op":0,"Addr":"b:2","Metadata":"by hand"}');
    await eventually(
      async () => (await leaseOf(key)) === registration.latest?.leaseId,
      10_000,
      'put back on its lease',
    );
    expect(JSON.parse((await valueOf(key)) ?? '')).toEqual({ Op: 0, Addr: 'a:1', Metadata: null });
    await registry.close();
    expect(await etcd.raw.get(key).exists()).toBe(false);
  });

  it('does not fight a live owner: the key stays as the other registry wrote it', async () => {
    const a = await connectTest(etcd.endpoints);
    const b = await connectTest(etcd.endpoints, { keyPrefix: a.prefix });
    const key = `${a.prefix}services/calm/a:1`;
    const first = record(
      a.registry.register({ service: 'calm', address: 'a:1', metadata: { by: 'a' } }),
    );
    await eventually(() => first.values.length === 1);
    const revision = await modRevisionOf(key);
    const second = record(
      b.registry.register({ service: 'calm', address: 'a:1', metadata: { by: 'b' } }),
    );
    // Answered in the same tick as B's own write of the address: by then B tried, and was held.
    const witness = record(b.registry.register({ service: 'other', address: 'b:1' }));
    await eventually(() => witness.values.length === 1);
    expect(await modRevisionOf(key)).toBe(revision);
    expect(await valueOf(key)).toBe('{"by":"a"}');
    expect([first.values.length, second.values.length]).toEqual([1, 0]);
  });

  it('keeps the metadata of a registration that is still live when a later one ends', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const key = `${prefix}services/twice/a:1`;
    const earlier = record(
      registry.register({ service: 'twice', address: 'a:1', metadata: { v: 'earlier' } }),
    );
    await eventually(() => earlier.values.length === 1);
    const later = record(
      registry.register({ service: 'twice', address: 'a:1', metadata: { v: 'later' } }),
    );
    await eventually(async () => (await valueOf(key)) === '{"v":"later"}', 5000, 'later wins');
    later.subscription.unsubscribe();
    await eventually(async () => (await valueOf(key)) === '{"v":"earlier"}', 5000, 'earlier back');
    expect(earlier.latest?.endpoint.metadata).toEqual({ v: 'earlier' });
  });

  describe('unregister() of the last registration while etcd is unreachable', () => {
    let own: EtcdCluster;
    beforeEach(async () => {
      own = await EtcdCluster.start();
    });
    afterEach(async () => {
      await closeTestRegistries();
      await own.close();
    });

    it('keeps trying, and resolves only once etcd confirmed the key is gone', async () => {
      const { registry, prefix } = await connectTest(own.endpoints, { requestTimeoutSeconds: 0.5 });
      const registration = record(registry.register({ service: 'last', address: 'a:1' }));
      await eventually(() => registration.values.length === 1);
      await own.members[0]?.kill();
      let settled = false;
      const unregistered = registry
        .unregister({ service: 'last', address: 'a:1' })
        .finally(() => (settled = true));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(settled).toBe(false);
      await own.members[0]?.start();
      await own.waitHealthy();
      await unregistered;
      const check = new Etcd3({ hosts: own.endpoints });
      try {
        expect(await check.get(`${prefix}services/last/a:1`).exists()).toBe(false);
      } finally {
        check.close();
      }
    });

    it('rejects with a RegistryClosedError when the registry is closed first', async () => {
      const { registry } = await connectTest(own.endpoints, { requestTimeoutSeconds: 0.5 });
      const registration = record(registry.register({ service: 'last', address: 'a:1' }));
      await eventually(() => registration.values.length === 1);
      await own.members[0]?.kill();
      const unregistered = registry.unregister({ service: 'last', address: 'a:1' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const closed = registry.close();
      await expect(unregistered).rejects.toBeInstanceOf(RegistryClosedError);
      await expect(closed).rejects.toMatchObject({
        name: 'EtcdUnavailableError',
        keys: [expect.stringContaining('services/last/a:1') as string],
      });
    });
  });
});
