import { Etcd3 } from 'etcd3';
import { PermissionDeniedError } from '../../lib/errors/PermissionDeniedError';
import { RegistryClosedError } from '../../lib/errors/RegistryClosedError';
import { ValidationError } from '../../lib/errors/ValidationError';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { enableEtcdAuth } from '../support/etcdAuth';
import { eventually, record } from '../support/observe';
import { exited, spawnService } from '../support/spawnService';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

describe('register', () => {
  const leases = async (): Promise<string[]> =>
    (await etcd.raw.leaseClient.leaseLeases()).leases.map((lease) => lease.ID);
  const value = (key: string) => etcd.raw.get(key).string();
  const leaseOf = async (key: string) =>
    (await etcd.raw.get(key).exec()).kvs[0]?.lease ?? undefined;

  const etcd = useEtcd();

  it('does nothing until subscribed', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const before = await leases();
    registry.register({ service: 'lazy', address: 'a:1' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await etcd.raw.getAll().prefix(prefix).keys()).toEqual([]);
    expect(await leases()).toEqual(before);
  });

  it('writes the key on a lease and emits the registration, and never completes by itself', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { leaseSeconds: 30 });
    const recording = record(
      registry.register({ service: 'web', address: '10.0.0.1:80', metadata: { zone: 'a' } }),
    );
    await eventually(() => recording.values.length === 1);
    const registration = recording.latest;
    expect(registration).toEqual({
      endpoint: { service: 'web', address: '10.0.0.1:80', metadata: { zone: 'a' } },
      key: `${prefix}services/web/10.0.0.1:80`,
      leaseId: expect.stringMatching(/^\d+$/) as string,
      reregistered: false,
      state: 'serving',
    });
    expect(Object.isFrozen(registration)).toBe(true);
    expect(await value(`${prefix}services/web/10.0.0.1:80`)).toBe('{"zone":"a"}');
    expect(await leaseOf(`${prefix}services/web/10.0.0.1:80`)).toBe(registration?.leaseId);
    const ttl = await etcd.raw.leaseClient.leaseTimeToLive({ ID: registration?.leaseId ?? '' });
    expect(Number(ttl.grantedTTL)).toBe(30);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(recording.completed).toBe(false);
    expect(recording.values).toHaveLength(1);
  });

  it('writes an empty value without metadata, as the Go gsr does', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const plain = record(registry.register({ service: 'plain', address: 'a:1' }));
    await eventually(() => plain.values.length === 1);
    expect(await value(`${prefix}services/plain/a:1`)).toBe('');
  });

  it('holds one lease for 100 registrations', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const before = await leases();
    const recordings = Array.from({ length: 100 }, (_, i) =>
      record(registry.register({ service: 'many', address: `10.0.1.${i}:80` })),
    );
    await eventually(() => recordings.every((r) => r.values.length === 1));
    const after = await leases();
    expect(after.length).toBe(before.length + 1);
    const leaseIds = new Set(recordings.map((r) => r.latest?.leaseId));
    expect(leaseIds.size).toBe(1);
    expect(await etcd.raw.getAll().prefix(`${prefix}services/many/`).count()).toBe(100);
    // The lease is revoked with the last registration.
    recordings.forEach((r) => r.subscription.unsubscribe());
    await eventually(async () => (await leases()).length === before.length, 5000, 'lease revoked');
    expect(await etcd.raw.getAll().prefix(`${prefix}services/many/`).count()).toBe(0);
  });

  it('deletes only its own key when it ends', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const one = record(registry.register({ service: 'pair', address: 'one:1' }));
    const two = record(registry.register({ service: 'pair', address: 'two:1' }));
    await eventually(() => one.values.length === 1 && two.values.length === 1);
    one.subscription.unsubscribe();
    await eventually(async () => !(await etcd.raw.get(`${prefix}services/pair/one:1`).exists()));
    expect(await etcd.raw.get(`${prefix}services/pair/two:1`).exists()).toBe(true);
    expect(await leases()).toContain(two.latest?.leaseId);
  });

  it('waits while another registry holds the address, and writes the key once that registration ends', async () => {
    const first = await connectTest(etcd.endpoints);
    const second = await connectTest(etcd.endpoints, { keyPrefix: first.prefix });
    const key = `${first.prefix}services/shared/10.0.0.1:80`;
    const a = record(first.registry.register({ service: 'shared', address: '10.0.0.1:80' }));
    await eventually(() => a.values.length === 1);
    // Keep the first registry's lease alive with another endpoint, so that only the delete matters.
    const keepAlive = record(first.registry.register({ service: 'other', address: 'x:1' }));
    await eventually(() => keepAlive.values.length === 1);
    const b = record(second.registry.register({ service: 'shared', address: '10.0.0.1:80' }));
    // The second registry's lease is granted, and its guarded write answered, by the time it holds
    // another key of its own: written in the same tick.
    const witness = record(second.registry.register({ service: 'other', address: 'y:1' }));
    await eventually(() => witness.values.length === 1);
    expect(await leaseOf(key)).toBe(a.latest?.leaseId); // Not written over, not even once.
    expect(b.values).toEqual([]);

    a.subscription.unsubscribe();
    await eventually(() => b.values.length === 1);
    expect(await leaseOf(key)).toBe(b.latest?.leaseId);

    b.subscription.unsubscribe();
    await eventually(async () => !(await etcd.raw.get(key).exists()));
  });

  it('keeps a key registered twice in one registry until both registrations end', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const key = `${prefix}services/twice/a:1`;
    const keep = record(registry.register({ service: 'other', address: 'b:1' }));
    const first = record(registry.register({ service: 'twice', address: 'a:1' }));
    const second = record(registry.register({ service: 'twice', address: 'a:1' }));
    await eventually(() => [keep, first, second].every((r) => r.values.length === 1));
    first.subscription.unsubscribe();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await etcd.raw.get(key).exists()).toBe(true);
    second.subscription.unsubscribe();
    await eventually(async () => !(await etcd.raw.get(key).exists()));
  });

  it('registers again on a new lease when the lease is revoked behind its back', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { leaseSeconds: 3 });
    const recordings = ['a:1', 'b:1'].map((address) =>
      record(registry.register({ service: 'phoenix', address })),
    );
    await eventually(() => recordings.every((r) => r.values.length === 1));
    const lost = recordings[0]?.latest?.leaseId ?? '';
    await etcd.raw.leaseClient.leaseRevoke({ ID: lost });
    // etcd3 notices at the next keepalive (every TTL/3 = 1 s).
    await eventually(() => recordings.every((r) => r.values.length === 2), 10_000, 're-registered');
    const renewed = recordings[0]?.latest?.leaseId;
    expect(renewed).not.toBe(lost);
    expect(recordings[1]?.latest?.leaseId).toBe(renewed);
    expect(recordings.map((r) => r.values.map((v) => v.reregistered))).toEqual([
      [false, true],
      [false, true],
    ]);
    expect(await leaseOf(`${prefix}services/phoenix/a:1`)).toBe(renewed);
    expect(await leaseOf(`${prefix}services/phoenix/b:1`)).toBe(renewed);
    expect(recordings.every((r) => r.error === undefined && !r.completed)).toBe(true);
  });

  it('waits for etcd instead of erroring, and registers once it answers', async () => {
    const own = await EtcdCluster.start();
    try {
      const { registry, prefix } = await connectTest(own.endpoints, { requestTimeoutSeconds: 0.5 });
      await own.members[0]?.kill();
      const recording = record(registry.register({ service: 'patient', address: 'a:1' }));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(recording.error).toBeUndefined();
      expect(recording.values).toEqual([]);
      await own.members[0]?.start();
      await eventually(() => recording.values.length === 1, 15_000, 'registered after restart');
      const check = new Etcd3({ hosts: own.endpoints });
      expect(await check.get(`${prefix}services/patient/a:1`).exists()).toBe(true);
      check.close();
    } finally {
      await closeTestRegistries();
      await own.close();
    }
  });

  describe('rejects bad input with a ValidationError, writing nothing', () => {
    it.each([
      [{ service: '', address: 'a:1' }, 'service'],
      [{ address: 'a:1' }, 'service'],
      [{ service: 'a/b', address: 'a:1' }, 'service'],
      [{ service: 'we b', address: 'a:1' }, 'service'],
      [{ service: 'web\t', address: 'a:1' }, 'service'],
      [{ service: 'web\u0000', address: 'a:1' }, 'service'],
      [{ service: 'web', address: '' }, 'address'],
      [{ service: 'web', address: '../../x' }, 'address'],
      [{ service: 'web', address: 'a :1' }, 'address'],
      [{ service: 'web', address: 'a\n1' }, 'address'],
      [{ service: 'web', address: 'a:1', metadata: 'zone=a' }, 'metadata'],
      [{ service: 'web', address: 'a:1', metadata: ['a'] }, 'metadata'],
      [{ service: 'web', address: 'a:1', metadata: { at: new Date(0) } }, 'metadata'],
      [{ service: 'web', address: 'a:1', metadata: { f: () => 0 } }, 'metadata'],
    ])('%j (%s)', async (endpoint, field) => {
      const { registry, prefix } = await connectTest(etcd.endpoints);
      const before = await leases();
      const recording = record(registry.register(endpoint as never));
      expect(recording.error).toBeInstanceOf(ValidationError);
      expect((recording.error as ValidationError).field).toBe(field);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await etcd.raw.getAll().prefix(prefix).keys()).toEqual([]);
      expect(await leases()).toEqual(before);
    });
  });

  describe('unregister', () => {
    it('completes the live registration and deletes the key', async () => {
      const { registry, prefix } = await connectTest(etcd.endpoints);
      const keep = record(registry.register({ service: 'svc', address: 'stay:1' }));
      const leaving = record(registry.register({ service: 'svc', address: 'go:1' }));
      await eventually(() => keep.values.length === 1 && leaving.values.length === 1);
      await registry.unregister({ service: 'svc', address: 'go:1' });
      expect(leaving.completed).toBe(true);
      expect(keep.completed).toBe(false);
      expect(await etcd.raw.get(`${prefix}services/svc/go:1`).exists()).toBe(false);
      expect(await etcd.raw.get(`${prefix}services/svc/stay:1`).exists()).toBe(true);
    });

    it('deletes a key this registry does not hold, like the Go gsr', async () => {
      const { registry, prefix } = await connectTest(etcd.endpoints);
      await etcd.raw.put(`${prefix}services/svc/foreign:1`).value('');
      await registry.unregister({ service: 'svc', address: 'foreign:1' });
      expect(await etcd.raw.get(`${prefix}services/svc/foreign:1`).exists()).toBe(false);
    });

    it('rejects a bad endpoint with a ValidationError', async () => {
      const { registry } = await connectTest(etcd.endpoints);
      await expect(registry.unregister({ service: 'a/b', address: 'x' })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });
  });

  describe('close', () => {
    it('ends every registration, deletes their keys and revokes the lease', async () => {
      const { registry, prefix } = await connectTest(etcd.endpoints);
      const before = await leases();
      const recordings = Array.from({ length: 10 }, (_, i) =>
        record(registry.register({ service: 'closing', address: `a:${i + 1}` })),
      );
      await eventually(() => recordings.every((r) => r.values.length === 1));
      await registry.close();
      expect(recordings.every((r) => r.completed)).toBe(true);
      expect(await etcd.raw.getAll().prefix(prefix).count()).toBe(0);
      expect(await leases()).toEqual(before);
    });

    it('refuses registrations afterwards', async () => {
      const { registry } = await connectTest(etcd.endpoints);
      await registry.close();
      expect(record(registry.register({ service: 'late', address: 'a:1' })).error).toBeInstanceOf(
        RegistryClosedError,
      );
    });

    it('awaits the delete that an unsubscribe started (the shutdown recipe)', async () => {
      const { registry, prefix } = await connectTest(etcd.endpoints);
      const subscription = registry.register({ service: 'recipe', address: 'a:1' }).subscribe();
      await eventually(async () => etcd.raw.get(`${prefix}services/recipe/a:1`).exists());
      subscription.unsubscribe();
      await registry.close();
      expect(await etcd.raw.get(`${prefix}services/recipe/a:1`).exists()).toBe(false);
    });
  });

  describe('in a service process', () => {
    it('disappears after the lease TTL when the process is killed (SIGKILL)', async () => {
      const prefix = `killed-${Date.now()}/`;
      const key = `${prefix}services/victim/10.9.9.9:80`;
      const child = await spawnService({
        GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','),
        GSR_KEY_PREFIX: prefix,
        GSR_LEASE_SECONDS: '2',
        SPEC_SERVICE: 'victim',
        SPEC_ADDRESS: '10.9.9.9:80',
      });
      expect(await etcd.raw.get(key).exists()).toBe(true);
      const killedAt = Date.now();
      child.kill('SIGKILL');
      await exited(child);
      // Not deleted by anyone: it lingers until etcd expires the lease...
      expect(await etcd.raw.get(key).exists()).toBe(true);
      // ...which happens within the TTL, plus about a second (etcd checks expiry every 500 ms).
      await eventually(async () => !(await etcd.raw.get(key).exists()), 8000, 'key expired');
      const goneAfter = Date.now() - killedAt;
      process.stdout.write(`SIGKILL with a 2 s lease: gone after ${goneAfter}ms\n`);
      expect(goneAfter).toBeLessThan(2000 + 1500);
    });

    it('is gone by the time the process exits after SIGTERM (the README recipe)', async () => {
      const prefix = `termed-${Date.now()}/`;
      const key = `${prefix}services/polite/10.9.9.8:80`;
      const child = await spawnService({
        GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','),
        GSR_KEY_PREFIX: prefix,
        GSR_LEASE_SECONDS: '60',
        SPEC_SERVICE: 'polite',
        SPEC_ADDRESS: '10.9.9.8:80',
      });
      expect(await etcd.raw.get(key).exists()).toBe(true);
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
      expect(await etcd.raw.get(key).exists()).toBe(false);
      expect(await etcd.raw.getAll().prefix(prefix).count()).toBe(0);
    });
  });

  describe('with etcd authentication', () => {
    let secured: EtcdCluster;
    beforeAll(async () => {
      secured = await EtcdCluster.start();
      await enableEtcdAuth(secured.endpoints, 'rootpw', [
        { name: 'reader', password: 'pw', readPrefix: 'gsr/' },
      ]);
    });
    afterAll(async () => {
      await secured.close();
    });

    it('errors with a PermissionDeniedError when the user may not write the key', async () => {
      const { registry } = await connectTest(secured.endpoints, {
        keyPrefix: 'gsr/',
        etcdUsername: 'reader',
        etcdPassword: 'pw',
      });
      const denied = record(registry.register({ service: 'web', address: 'a:1' }));
      await eventually(() => denied.error !== undefined);
      expect(denied.error).toBeInstanceOf(PermissionDeniedError);
      expect((denied.error as PermissionDeniedError).key).toBe('gsr/services/web/a:1');
    });
  });
});
