import { Etcd3 } from 'etcd3';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { TcpProxy } from '../../lib/testing/TcpProxy';
import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const addresses = (list: readonly Endpoint[] | undefined) => (list ?? []).map((e) => e.address);

describe('whole-cluster restart', () => {
  // Every member crashes (a graceful stop of all three at once waits on the stopping peers for
  // seconds), stays down for `downMs`, and comes back with its data.
  const restartAll = async (downMs: number): Promise<void> => {
    await Promise.all(etcd.members.map((member) => member.kill()));
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await Promise.all(etcd.members.map((member) => member.start()));
    await etcd.cluster.waitHealthy();
  };

  const etcd = useEtcd({ members: 3 });

  it('resumes streams where they left off, and keeps registrations when shorter than the TTL', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { leaseSeconds: 15 });
    const registration = record(registry.register({ service: 'svc', address: 'kept:1' }));
    await eventually(() => registration.values.length === 1);
    // The registry already watches svc (it guards the key it registered): this stream shares that
    // list, which may not have seen the registration yet.
    const stream = record(registry.endpoints$('svc'));
    await eventually(() => stream.latest?.length === 1);
    const before = stream.values.length;

    await restartAll(2000);

    const client = new Etcd3({ hosts: etcd.endpoints });
    try {
      await client.put(`${prefix}services/svc/after:1`).value('');
      await eventually(() => stream.latest?.length === 2, 10_000, 'stream resumed');
      expect(stream.values.slice(before - 1).map(addresses)).toEqual([
        ['kept:1'],
        ['after:1', 'kept:1'],
      ]);
      // The same lease carried the registration through: no re-registration.
      expect(registration.values).toHaveLength(1);
      const kv = (await client.get(`${prefix}services/svc/kept:1`).exec()).kvs[0];
      expect(kv?.lease).toBe(registration.latest?.leaseId);
      expect([registration.error, stream.error]).toEqual([undefined, undefined]);
    } finally {
      client.close();
    }
  });

  it('registers again on a new lease when the outage outlasts the lease', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { leaseSeconds: 2 });
    const registration = record(registry.register({ service: 'svc', address: 'renewed:1' }));
    const stream = record(registry.endpoints$('svc'));
    await eventually(() => registration.values.length === 1 && stream.latest?.length === 1);

    // Longer than twice the TTL: the client gives the lease up as lost.
    await restartAll(5000);

    await eventually(() => registration.values.length === 2, 15_000, 're-registered');
    const [first, second] = registration.values;
    expect(second?.reregistered).toBe(true);
    expect(second?.leaseId).not.toBe(first?.leaseId);
    const client = new Etcd3({ hosts: etcd.endpoints });
    try {
      const kv = (await client.get(`${prefix}services/svc/renewed:1`).exec()).kvs[0];
      expect(kv?.lease).toBe(second?.leaseId);
      expect(addresses(stream.latest)).toEqual(['renewed:1']);
      expect([registration.error, stream.error]).toEqual([undefined, undefined]);
    } finally {
      client.close();
    }
  });
});

describe("etcd's data replaced", () => {
  it('reads the streams again and registers again on a new lease', async () => {
    const etcd = await EtcdCluster.start();
    try {
      const { registry, prefix } = await connectTest(etcd.endpoints, { leaseSeconds: 5 });
      const client = new Etcd3({ hosts: etcd.endpoints });
      await client.put(`${prefix}services/svc/stale:1`).value('');
      for (let i = 0; i < 30; i++) {
        await client.put(`${prefix}filler`).value(String(i)); // the old store runs ahead
      }
      const registration = record(registry.register({ service: 'svc', address: 'mine:1' }));
      const stream = record(registry.endpoints$('svc'));
      await eventually(() => registration.values.length === 1 && stream.latest?.length === 2);

      const member = etcd.members[0];
      await member?.kill();
      member?.wipe();
      await member?.start();
      await etcd.waitHealthy();

      // The new store has nothing: not the stale endpoint, not ours until gsr writes it again.
      await eventually(() => registration.values.length === 2, 15_000, 're-registered');
      await eventually(
        () => addresses(stream.latest).join() === 'mine:1',
        15_000,
        'stream read the new store',
      );
      expect(await client.getAll().prefix(`${prefix}services/`).keys()).toEqual([
        `${prefix}services/svc/mine:1`,
      ]);
      client.close();
    } finally {
      await closeTestRegistries();
      await etcd.close();
    }
  });
});

describe("etcd's data replaced by a store that ran past our revision before gsr reconnected", () => {
  it('reads every resumed list again, and one-off reads answer from the new store', async () => {
    const etcd = await EtcdCluster.start();
    const proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
    const client = new Etcd3({ hosts: etcd.endpoints });
    try {
      const { registry, prefix, logs } = await connectTest([proxy.url]);
      await client.put(`${prefix}services/svc/old-a:1`).value('');
      await client.put(`${prefix}services/svc/old-b:1`).value('');
      const stream = record(registry.endpoints$('svc'));
      await eventually(() => stream.latest?.length === 2);

      // gsr is cut off while etcd loses its data and takes more writes than the old store had.
      proxy.cut();
      const member = etcd.members[0];
      await member?.kill();
      member?.wipe();
      await member?.start();
      await etcd.waitHealthy();
      await client.put(`${prefix}services/svc/new:1`).value('');
      for (let i = 0; i < 30; i++) {
        await client.put(`${prefix}filler`).value(String(i));
      }
      await proxy.heal();

      await eventually(
        () => addresses(stream.latest).join() === 'new:1',
        15_000,
        'the stream read the new store',
      );
      expect(addresses(await registry.endpoints('svc'))).toEqual(['new:1']);
      expect(logs.some((line) => line.includes('its data was replaced or restored'))).toBe(true);
    } finally {
      client.close();
      await closeTestRegistries();
      await proxy.close();
      await etcd.close();
    }
  });
});

describe('another etcd cluster at the same address', () => {
  it('reads every resumed list again when the cluster id changed, even with the same count and a later revision', async () => {
    const [before, after] = [await EtcdCluster.start(), await EtcdCluster.start()];
    const proxy = await TcpProxy.start(before.endpoints[0] ?? '');
    const [old, next] = [before, after].map((c) => new Etcd3({ hosts: c.endpoints }));
    try {
      const { registry, prefix, logs } = await connectTest([proxy.url]);
      for (let i = 0; i < 10; i++) {
        await old?.put(`${prefix}filler`).value(String(i));
      }
      await old?.put(`${prefix}services/svc/old:1`).value('');
      const stream = record(registry.endpoints$('svc'));
      await eventually(() => addresses(stream.latest).join() === 'old:1');

      // The other cluster holds as many keys, all written before the list's revision, and has run
      // past it: neither the revision nor the count tells the two apart; the cluster id does.
      await next?.put(`${prefix}services/svc/new:1`).value('');
      for (let i = 0; i < 30; i++) {
        await next?.put(`${prefix}filler`).value(String(i));
      }
      proxy.cut();
      proxy.retarget(after.endpoints[0] ?? '');
      await proxy.heal();

      await eventually(
        () => addresses(stream.latest).join() === 'new:1',
        15_000,
        'the stream read the other cluster',
      );
      expect(addresses(await registry.endpoints('svc'))).toEqual(['new:1']);
      expect(logs.some((line) => line.includes('is another cluster'))).toBe(true);
      expect(stream.error).toBeUndefined();
    } finally {
      old?.close();
      next?.close();
      await closeTestRegistries();
      await proxy.close();
      await Promise.all([before.close(), after.close()]);
    }
  });
});
