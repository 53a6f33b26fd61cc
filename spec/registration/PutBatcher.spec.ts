import { isLeaseNotFound } from '../../lib/etcd/EtcdFailure';
import { PutBatcher } from '../../lib/registration/PutBatcher';
import { simWorld } from '../sim/simWorld';

describe('PutBatcher (on a simulated etcd)', () => {
  it('writes the puts of one tick in transactions of at most 128, all at one revision each', async () => {
    const { context, etcd, port, until } = simWorld();
    const lease = etcd.grant(30, 'A');
    const batcher = new PutBatcher(context);
    const outcomes = await until(
      Promise.all(Array.from({ length: 300 }, (_, i) => batcher.put(`b/k${i}`, `${i}`, lease))),
    );
    expect(port.requests.get('put')).toBe(3);
    expect(new Set(outcomes.map((outcome) => outcome.revision)).size).toBe(3);
    expect(outcomes.every((outcome) => outcome.heldBy === undefined)).toBe(true);
    expect(etcd.range('b/')).toHaveLength(300);
    expect(etcd.get('b/k7')?.entry.lease).toBe(lease);
  });

  it('leaves a guarded put unwritten while another lease holds its key, and names that lease, in the same transaction as the rest', async () => {
    const { context, etcd, port, until } = simWorld();
    const ours = etcd.grant(30, 'A');
    const theirs = etcd.grant(30, 'B');
    etcd.putAll([{ key: 'g/held', value: 'B', lease: theirs }], 'B');
    const batcher = new PutBatcher(context);
    const [held, free, plain] = await until(
      Promise.all([
        batcher.put('g/held', 'A', ours, [ours, '0']),
        batcher.put('g/free', 'A', ours, [ours, '0']),
        batcher.put('g/plain', 'A', ours),
      ]),
    );
    expect(port.requests.get('put')).toBe(1);
    expect(held).toEqual({ revision: free.revision, heldBy: theirs });
    expect(free.heldBy).toBeUndefined();
    expect(plain).toEqual(free);
    expect(etcd.get('g/held')?.entry.value.toString()).toBe('B');
    expect(etcd.get('g/free')?.entry.lease).toBe(ours);
  });

  it('gives each op its own answer when the transaction fails on a lease etcd does not know', async () => {
    const { context, port, until } = simWorld();
    const batcher = new PutBatcher(context);
    const results = await until(
      Promise.allSettled(Array.from({ length: 5 }, (_, i) => batcher.put(`g/k${i}`, '', '12345'))),
    );
    expect(results.every((r) => r.status === 'rejected' && isLeaseNotFound(r.reason))).toBe(true);
    expect(port.requests.get('put')).toBe(1 + 5);
  });

  it('does not let one denied key fail its neighbours', async () => {
    const { context, etcd, until } = simWorld();
    etcd.deny('admin/');
    const lease = etcd.grant(30, 'A');
    const batcher = new PutBatcher(context);
    const keys = ['web/a', 'web/b', 'admin/x', 'web/c'];
    const results = await until(Promise.allSettled(keys.map((key) => batcher.put(key, '', lease))));
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
  });

  it('answers a transient failure to every op, each to retry on its own', async () => {
    const { context, etcd, port, until } = simWorld();
    const lease = etcd.grant(30, 'A');
    const batcher = new PutBatcher(context);
    port.partition();
    const results = await until(
      Promise.allSettled([batcher.put('p/a', '', lease), batcher.put('p/b', '', lease)]),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(port.requests.get('put')).toBe(1);
  });
});
