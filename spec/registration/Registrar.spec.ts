import { ValidationError } from '../../lib/errors/ValidationError';
import { simRegistry, simWorld } from '../sim/simWorld';
import { record } from '../support/observe';

/** The registration half of a registry, through the registry, on a simulated etcd. */
function setUp() {
  const world = simWorld();
  const registry = simRegistry(world);
  const key = (service: string, address: string) => `sim/services/${service}/${address}`;
  const held = (k: string) => world.etcd.get(k)?.entry;
  const ours = () => world.etcd.leases().filter((lease) => lease.owner === 'A');
  return { ...world, registry, key, held, ours };
}

describe('Registrar (on a simulated etcd)', () => {
  it('writes every registration on one lease, granted once', async () => {
    const { registry, run, key, held, ours, port } = setUp();
    const a = record(registry.register({ service: 'web', address: 'a:1' }));
    const b = record(registry.register({ service: 'web', address: 'b:1', metadata: { v: 1 } }));
    await run(100);
    expect(ours()).toHaveLength(1);
    expect(port.requests.get('grant')).toBe(1);
    expect(held(key('web', 'a:1'))?.lease).toBe(a.latest?.leaseId);
    expect(held(key('web', 'b:1'))?.value.toString()).toBe('{"v":1}');
    expect(b.latest).toMatchObject({ reregistered: false, leaseId: ours()[0]?.id });
  });

  it('puts a key back, value and lease, after a delete or a plain put, and says it re-registered', async () => {
    const { registry, run, key, held, etcd } = setUp();
    const k = key('web', 'a:1');
    const registration = record(
      registry.register({ service: 'web', address: 'a:1', metadata: { v: 1 } }),
    );
    await run(100);
    const lease = registration.latest?.leaseId;
    etcd.deleteKey(k, undefined, 'operator');
    await run(100);
    expect(held(k)).toMatchObject({ lease });
    etcd.putAll([{ key: k, value: '{"v":2}', lease: '0' }], 'operator');
    await run(100);
    expect(held(k)?.lease).toBe(lease);
    expect(held(k)?.value.toString()).toBe('{"v":1}');
    expect(registration.values.map((r) => r.reregistered)).toEqual([false, true, true]);
  });

  it('leaves a key another live lease holds alone, and writes it again once that owner goes', async () => {
    const { registry, run, key, held, etcd, port } = setUp();
    const k = key('web', 'a:1');
    const registration = record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    const theirs = etcd.grant(60, 'B');
    etcd.putAll([{ key: k, value: '{"by":"b"}', lease: theirs }], 'B');
    const puts = port.requests.get('put');
    await run(3000);
    expect(held(k)?.lease).toBe(theirs); // No ping-pong.
    expect(port.requests.get('put')).toBe(puts);
    etcd.revoke(theirs, 'B');
    await run(100);
    expect(held(k)?.lease).toBe(registration.latest?.leaseId);
  });

  it('never writes over a key another live lease holds when it registers: it writes once that key goes', async () => {
    const { registry, run, key, held, etcd, port } = setUp();
    const k = key('web', 'a:1');
    const theirs = etcd.grant(60, 'B');
    etcd.putAll([{ key: k, value: '{"by":"b"}', lease: theirs }], 'B');
    const registration = record(registry.register({ service: 'web', address: 'a:1' }));
    await run(3000);
    expect(held(k)).toMatchObject({ lease: theirs, version: 1 }); // Not written over, even once.
    expect(registration.values).toEqual([]);
    const puts = port.requests.get('put');
    etcd.revoke(theirs, 'B');
    await run(100);
    expect(held(k)?.lease).toBe(registration.latest?.leaseId);
    expect(port.requests.get('put')).toBe((puts ?? 0) + 1);
  });

  it('writes a key left to another lease once that lease goes, even when a removal of ours ended meanwhile', async () => {
    const { registry, run, key, held, etcd, port, ours } = setUp();
    const k = key('web', 'a:1');
    record(registry.register({ service: 'web', address: 'b:1' })); // The lease outlives a:1.
    const first = record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    port.partition();
    // Its delete retries until etcd is back, shorter than the lease: the watch sees their key first.
    first.subscription.unsubscribe();
    await run(2000);
    const theirs = etcd.grant(60, 'B');
    etcd.putAll([{ key: k, value: '{"by":"b"}', lease: theirs }], 'B');
    const second = record(registry.register({ service: 'web', address: 'a:1' }));
    port.heal();
    await run(5000);
    expect(held(k)?.lease).toBe(theirs); // Left to them, not deleted under them.
    etcd.revoke(theirs, 'B');
    await run(3000);
    expect(held(k)?.lease).toBe(second.latest?.leaseId ?? ours()[0]?.id);
    expect(held(k)?.lease).not.toBe(theirs);
    expect(held(k)).toBeDefined();
  });

  it('deletes its key when it ends only while it is bound to its lease or to none', async () => {
    const { registry, run, key, held, etcd, until } = setUp();
    const mine = record(registry.register({ service: 'web', address: 'a:1' }));
    record(registry.register({ service: 'web', address: 'b:1' })); // Keeps the lease.
    await run(100);
    const theirs = etcd.grant(60, 'B');
    etcd.putAll([{ key: key('web', 'a:1'), value: '', lease: theirs }], 'B');
    await run(100);
    mine.subscription.unsubscribe();
    await until(registry.unregister({ service: 'web', address: 'a:1' }).catch(() => undefined));
    await run(100);
    expect(held(key('web', 'a:1'))?.lease).toBe(theirs);
  });

  it('deletes its key when it ends though it revoked the lease, when etcd was last seen to hold it on none', async () => {
    const { registry, run, key, held, etcd, port, clock, logs } = setUp();
    const k = key('web', 'a:1');
    const registration = record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    etcd.putAll([{ key: k, value: '{"by":"operator"}', lease: '0' }], 'operator');
    // The registry sees it and sends its write back, which etcd, cut off, never gets.
    while (!logs.some((line) => line.includes('overwritten without its lease'))) {
      clock.step();
      await new Promise((resolve) => setImmediate(resolve));
    }
    port.partition();
    registration.subscription.unsubscribe(); // The last registration: its lease is revoked...
    await run(100);
    port.heal();
    await run(5000);
    // ...which does not delete a key bound to no lease: the registry deletes it itself.
    expect(held(k)).toBeUndefined();
  });

  it('has unregister() delete a key left on no lease that it never wrote (its write still waiting)', async () => {
    const { registry, run, key, held, etcd, port, until } = setUp();
    const k = key('web', 'a:1');
    etcd.putAll([{ key: k, value: '{"by":"operator"}', lease: '0' }], 'operator');
    port.partition(); // The registration's write waits for etcd...
    record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    const unregistered = registry.unregister({ service: 'web', address: 'a:1' });
    port.heal(); // ...and is moot by the time etcd answers.
    await until(unregistered);
    expect(held(k)).toBeUndefined();
  });

  it('writes again, on its lease, a key a restored backup brought back on an old lease of its own, and deletes it at the end', async () => {
    const { registry, run, key, held, etcd, port } = setUp();
    const k = key('web', 'a:1');
    const registration = record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    const old = registration.latest?.leaseId as string;
    const backup = etcd.backup();
    etcd.revoke(old, 'operator'); // The lease is lost: granted again, the key written again.
    await run(3000);
    const current = held(k)?.lease;
    expect(current).not.toBe(old);
    port.partition(); // etcd stops, and comes back with the key on the old lease, which nobody renews.
    etcd.restore(backup);
    port.heal();
    await run(500); // Well within the old lease's TTL: not waiting for it to expire.
    expect(etcd.hasLease(old)).toBe(true);
    expect(held(k)?.lease).not.toBe(old); // Ours, written again: not left to "another" lease.
    registration.subscription.unsubscribe();
    await run(100);
    expect(held(k)).toBeUndefined();
  });

  it('writes a key again when etcd comes back wiped, even one it had left to another lease', async () => {
    const { registry, run, key, held, etcd, port } = setUp();
    const k = key('web', 'a:1');
    const registration = record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    const theirs = etcd.grant(60, 'B');
    etcd.putAll([{ key: k, value: '{"by":"b"}', lease: theirs }], 'B');
    await run(100);
    expect(held(k)?.lease).toBe(theirs);
    // Wiped: revision 1 again, behind every revision the registry saw; their key went with it.
    port.partition();
    etcd.restore(undefined);
    port.heal();
    await run(5000);
    expect(held(k)?.lease).toBe(registration.latest?.leaseId);
    expect(held(k)?.value.toString()).toBe('');
  });

  it('revokes the lease when the last registration ends, even one that ended before its grant', async () => {
    const { registry, run, ours } = setUp();
    const registration = record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    expect(ours()).toHaveLength(1);
    registration.subscription.unsubscribe();
    await run(100);
    expect(ours()).toHaveLength(0);
    registry.register({ service: 'web', address: 'b:1' }).subscribe().unsubscribe();
    await run(1000);
    expect(ours()).toHaveLength(0);
  });

  it('has close() wait for a grant in flight, and revoke its lease', async () => {
    const { registry, until, ours, etcd, clock } = setUp();
    registry.register({ service: 'web', address: 'a:1' }).subscribe();
    await until(registry.close());
    expect(ours()).toHaveLength(0);
    expect(etcd.range('sim/')).toEqual([]);
    expect(clock.liveTimers()).toBe(0);
  });
});

describe('Registry.unregister, given what is not an endpoint', () => {
  it.each([null, undefined, 'web', { service: 'web' }])(
    'rejects %p with a ValidationError, before anything is written',
    async (endpoint) => {
      const { registry, port } = setUp();
      await expect(
        registry.unregister(endpoint as unknown as { service: string; address: string }),
      ).rejects.toBeInstanceOf(ValidationError);
      expect(port.requests.size).toBe(0);
    },
  );
});
