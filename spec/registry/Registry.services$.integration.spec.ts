import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

describe('services$', () => {
  const etcd = useEtcd();

  it('lists, live and sorted, the services that have at least one endpoint', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/a`).value('');
    await etcd.raw.put(`${prefix}services/background/a`).value('');
    await etcd.raw.put(`${prefix}other/x`).value(''); // outside services/: not a service
    const services = record(registry.services$());
    await eventually(() => services.values.length === 1);
    expect(services.latest).toEqual(['background', 'web']);

    await etcd.raw.put(`${prefix}services/data-access/a`).value('');
    await etcd.raw.put(`${prefix}services/web/b`).value(''); // known service: no emission
    await eventually(() => services.latest?.length === 3);
    await etcd.raw.delete().key(`${prefix}services/web/a`); // web still has b: no emission
    await etcd.raw.delete().key(`${prefix}services/background/a`);
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
    // Created after the first list (from its revision): etcd may count it a moment later.
    await eventually(async () => (await watchers()) === before + 1, 5000, 'one watch');
    expect(await watchers()).toBe(before + 1);
    all.forEach((r) => r.subscription.unsubscribe());
    await eventually(async () => (await watchers()) === before, 5000, 'watch released');
  });
});
