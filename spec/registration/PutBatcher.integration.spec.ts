import { Etcd3, EtcdLeaseInvalidError, EtcdPermissionDeniedError } from 'etcd3';
import { PutBatcher } from '../../lib/registration/PutBatcher';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { enableEtcdAuth } from '../support/etcdAuth';
import { testContext } from '../support/testContext';
import { useEtcd } from '../support/useEtcd';

const TXN =
  'grpc_server_handled_total{grpc_code="OK",grpc_method="Txn",grpc_service="etcdserverpb.KV",grpc_type="unary"}';

describe('PutBatcher', () => {
  const etcd = useEtcd();
  const txns = async () => (await etcd.members[0]?.metrics())?.get(TXN) ?? 0;

  it('writes the puts of one tick in transactions of at most 128', async () => {
    const lease = etcd.raw.lease(30);
    const id = await lease.grant();
    const batcher = new PutBatcher(testContext(etcd.raw));
    const before = await txns();
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => batcher.put(`batch/k${i}`, `{"i":${i}}`, id)),
    );
    expect(await txns()).toBe(before + 3); // 128 + 128 + 44
    expect(await etcd.raw.getAll().prefix('batch/').count()).toBe(300);
    expect(await etcd.raw.get('batch/k7').string()).toBe('{"i":7}');
    const kv = (await etcd.raw.get('batch/k299').exec()).kvs[0];
    expect(kv?.lease).toBe(id);
    await lease.revoke();
  });

  it('writes a lone put as a plain put', async () => {
    const batcher = new PutBatcher(testContext(etcd.raw));
    const lease = etcd.raw.lease(30);
    const before = await txns();
    await batcher.put('lone/k', '', await lease.grant());
    expect(await txns()).toBe(before);
    expect(await etcd.raw.get('lone/k').exists()).toBe(true);
    await lease.revoke();
  });

  it('gives each op its own answer when the transaction fails on a lease etcd does not know', async () => {
    const batcher = new PutBatcher(testContext(etcd.raw));
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => batcher.put(`gone/k${i}`, '', '12345')),
    );
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    for (const result of results) {
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(EtcdLeaseInvalidError);
    }
  });

  it('does not let one denied key fail its neighbours', async () => {
    const secured = await EtcdCluster.start();
    try {
      await enableEtcdAuth(secured.endpoints, 'rootpw', [
        { name: 'svc', password: 'pw', readWritePrefix: 'gsr/services/web/' },
      ]);
      const user = new Etcd3({
        hosts: secured.endpoints,
        auth: { username: 'svc', password: 'pw' },
      });
      const lease = user.lease(30);
      const id = await lease.grant();
      const batcher = new PutBatcher(testContext(user));
      const keys = ['web/a:1', 'web/b:1', 'admin/x:1', 'web/c:1'].map((k) => `gsr/services/${k}`);
      const results = await Promise.allSettled(keys.map((key) => batcher.put(key, '', id)));
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(
        EtcdPermissionDeniedError,
      );
      await lease.revoke();
      user.close();
    } finally {
      await secured.close();
    }
  });
});
