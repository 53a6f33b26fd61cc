import { EtcdUnavailableError } from '../../lib/errors/EtcdUnavailableError';
import { RegistryClosedError } from '../../lib/errors/RegistryClosedError';
import { ValidationError } from '../../lib/errors/ValidationError';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

describe('endpoints (one-off)', () => {
  const ranges = async () => (await etcd.members[0]?.metrics())?.get('etcd_mvcc_range_total');

  const etcd = useEtcd();

  it("lists a service's endpoints with one range get", async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/db/10.0.0.2:5432`).value('{"primary":true}');
    await etcd.raw.put(`${prefix}services/db/10.0.0.1:5432`).value('');
    await etcd.raw.put(`${prefix}services/dbx/10.0.0.3:5432`).value('');
    const before = (await ranges()) ?? NaN;
    expect(await registry.endpoints('db')).toEqual([
      { service: 'db', address: '10.0.0.1:5432' },
      { service: 'db', address: '10.0.0.2:5432', metadata: { primary: true } },
    ]);
    expect(await ranges()).toBe(before + 1);
  });

  it('serves the live list without asking etcd while a stream of the service is subscribed', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/cached/a`).value('');
    const live = record(registry.endpoints$('cached'));
    await eventually(() => live.values.length === 1);
    const before = await ranges();
    const list = await registry.endpoints('cached');
    expect(list).toBe(live.latest);
    expect(await ranges()).toBe(before);
  });

  it('rejects with a ValidationError for a bad service name', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    await expect(registry.endpoints('a/b')).rejects.toBeInstanceOf(ValidationError);
  });

  it('rejects with a RegistryClosedError after close()', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    await registry.close();
    await expect(registry.endpoints('db')).rejects.toBeInstanceOf(RegistryClosedError);
  });

  it('rejects with an EtcdUnavailableError, not an empty list, when etcd is down', async () => {
    const own = await EtcdCluster.start();
    try {
      const { registry } = await connectTest(own.endpoints, { requestTimeoutSeconds: 0.5 });
      await own.members[0]?.kill();
      const attempt = registry.endpoints('db');
      await expect(attempt).rejects.toBeInstanceOf(EtcdUnavailableError);
      await expect(attempt).rejects.toThrow(
        /etcd is unavailable; could not list endpoints of "db"/,
      );
    } finally {
      await own.close();
    }
  });
});
