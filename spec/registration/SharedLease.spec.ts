import { SharedLease } from '../../lib/registration/SharedLease';
import { simWorld, type SimWorldOptions } from '../sim/simWorld';

function setUp(options: SimWorldOptions = {}) {
  const world = simWorld(options);
  const replaced: string[] = [];
  const lease = new SharedLease(world.context, 3, (id) => replaced.push(id));
  const ours = () => world.etcd.leases().map(({ id }) => id);
  return { ...world, lease, replaced, ours };
}

describe('SharedLease (on a simulated etcd)', () => {
  it('grants one lease however many ask at once, and renews it every third of its TTL', async () => {
    const { lease, until, run, port, ours } = setUp();
    const ids = await until(Promise.all([lease.id(), lease.id(), lease.id()]));
    expect(new Set(ids).size).toBe(1);
    expect(port.requests.get('grant')).toBe(1);
    await run(10_000);
    expect(ours()).toEqual([ids[0]]);
    // One at once, then one a second (TTL 3 s) for ten seconds.
    expect(port.requests.get('keepalive')).toBeGreaterThanOrEqual(10);
    expect(port.requests.get('keepalive')).toBeLessThanOrEqual(12);
  });

  it('replaces a lease etcd no longer knows, and says so', async () => {
    const { lease, until, run, etcd, replaced, ours } = setUp();
    const first = await until(lease.id());
    etcd.revoke(first, 'operator');
    await run(2000); // The next keepalive hears TTL 0.
    expect(replaced).toHaveLength(1);
    expect(ours()).toEqual(replaced);
    expect(await until(lease.id())).toBe(replaced[0]);
  });

  it('gives the lease up once a whole TTL went unanswered, and replaces it when etcd answers again', async () => {
    const { lease, until, run, port, replaced, logs } = setUp();
    const first = await until(lease.id());
    port.partition();
    await run(3500);
    expect(logs).toContainEqual(expect.stringContaining(`lease ${first} lost`));
    port.heal();
    await run(5000);
    expect(replaced).toHaveLength(1);
    expect(replaced[0]).not.toBe(first);
  });

  it('revokes it on release, and resolves with its id once etcd confirmed', async () => {
    const { lease, until, ours } = setUp();
    const id = await until(lease.id());
    expect(await until(lease.release())).toBe(id);
    expect(ours()).toEqual([]);
  });

  it('revokes a lease whose grant was still in flight when it was released', async () => {
    const { lease, until, ours, port } = setUp({ network: { maxDelayMs: 30 } });
    const waiting = lease.id(); // Its grant is on its way...
    const released = lease.release(); // ...when the lease is released.
    expect(await until(released)).toBeUndefined();
    // The late grant was revoked; the one still waiting got a lease of its own, the only one left.
    const id = await until(waiting);
    expect(port.requests.get('grant')).toBe(2);
    expect(ours()).toEqual([id]);
  });

  it('revokes on release a lease it gave up while etcd still held it (renewals applied, answers lost)', async () => {
    const { lease, until, run, port, etcd, logs, ours, clock } = setUp();
    const first = await until(lease.id());
    port.partition();
    // etcd goes on renewing it (renewals that reached it, whose answers did not come back).
    let renewing = true;
    const renew = (): void => {
      if (renewing) {
        etcd.keepAlive(first);
        clock.schedule(500, renew);
      }
    };
    renew();
    await run(3500);
    renewing = false;
    expect(logs).toContainEqual(expect.stringContaining(`lease ${first} lost`));
    port.heal();
    await run(2000);
    expect(ours()).toContain(first); // Still on etcd, with whatever keys of ours it holds.
    await until(lease.release());
    expect(ours()).toEqual([]);
  });
});
