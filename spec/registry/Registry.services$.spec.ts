import { Etcd3 } from 'etcd3';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';

describe('services$', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  afterEach(closeTestRegistries);
  afterAll(async () => {
    raw.close();
    await etcd.close();
  });

  it('lists, live and sorted, the services that have at least one endpoint', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await raw.put(`${prefix}services/web/a`).value('');
    await raw.put(`${prefix}services/background/a`).value('');
    await raw.put(`${prefix}other/x`).value(''); // outside services/: not a service
    const services = record(registry.services$());
    await eventually(() => services.values.length === 1);
    expect(services.latest).toEqual(['background', 'web']);

    await raw.put(`${prefix}services/data-access/a`).value('');
    await raw.put(`${prefix}services/web/b`).value(''); // known service: no emission
    await eventually(() => services.latest?.length === 3);
    await raw.delete().key(`${prefix}services/web/a`); // web still has b: no emission
    await raw.delete().key(`${prefix}services/background/a`);
    await eventually(() => services.latest?.length === 2);
    expect(services.values).toEqual([
      ['background', 'web'],
      ['background', 'data-access', 'web'],
      ['data-access', 'web'],
    ]);
  });

  it('shares one etcd watch between its subscribers', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const watchers = async () =>
      (await etcd.members[0]?.metrics())?.get('etcd_debugging_mvcc_watcher_total');
    const before = (await watchers()) ?? NaN;
    const all = Array.from({ length: 20 }, () => record(registry.services$()));
    await eventually(() => all.every((r) => r.values.length === 1));
    expect(await watchers()).toBe(before + 1);
    all.forEach((r) => r.subscription.unsubscribe());
    await eventually(async () => (await watchers()) === before, 5000, 'watch released');
  });
});
