import { PutBatcher } from '../../lib/registration/PutBatcher';
import { testContext } from '../support/testContext';
import { useEtcd } from '../support/useEtcd';

const TXN =
  'grpc_server_handled_total{grpc_code="OK",grpc_method="Txn",grpc_service="etcdserverpb.KV",grpc_type="unary"}';

// How the batching shows on the wire; how failures are split op by op is in PutBatcher.spec.ts (simulated etcd).
describe('PutBatcher on etcd', () => {
  const etcd = useEtcd();
  const txns = async () => (await etcd.members[0]?.metrics())?.get(TXN) ?? 0;
  const contexts: { close(): void }[] = [];
  const context = () => {
    const made = testContext(etcd.endpoints);
    contexts.push(made);
    return made;
  };
  afterEach(() => contexts.splice(0).forEach((made) => made.close()));

  it('writes the puts of one tick in transactions of at most 128', async () => {
    const lease = etcd.raw.lease(30);
    const id = await lease.grant();
    const batcher = new PutBatcher(context());
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
    const batcher = new PutBatcher(context());
    const lease = etcd.raw.lease(30);
    const before = await txns();
    await batcher.put('lone/k', '', await lease.grant());
    expect(await txns()).toBe(before);
    expect(await etcd.raw.get('lone/k').exists()).toBe(true);
    await lease.revoke();
  });
});
