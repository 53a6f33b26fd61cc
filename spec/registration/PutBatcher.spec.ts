import { isLeaseNotFound } from '../../lib/etcd/EtcdFailure';
import { PutBatcher } from '../../lib/registration/PutBatcher';
import { simWorld } from '../sim/simWorld';

describe('PutBatcher (on a simulated etcd)', () => {
  it('writes the puts of one tick in transactions of at most 128, all at one revision each', async () => {
    const { context, etcd, port, until } = simWorld();
    const lease = etcd.grant(30, 'A');
    const batcher = new PutBatcher(context);
    const revisions = await until(
      Promise.all(Array.from({ length: 300 }, (_, i) => batcher.put(`b/k${i}`, `${i}`, lease))),
    );
    expect(port.requests.get('put')).toBe(3);
    expect(new Set(revisions).size).toBe(3);
    expect(etcd.range('b/')).toHaveLength(300);
    expect(etcd.get('b/k7')?.entry.lease).toBe(lease);
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
