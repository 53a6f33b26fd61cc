import { noop } from 'cockatiel';
import { AlarmAction, AlarmType, Etcd3 } from 'etcd3';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';

/** The smallest quota etcd takes without complaint: 16 MiB, filled in a second with 1 MB values. */
const QUOTA_BYTES = 16 * 1024 * 1024;

describe('etcd out of space (the NOSPACE alarm)', () => {
  it('loses no registration: a new one and a live key deleted meanwhile are written once space is freed', async () => {
    const etcd = await EtcdCluster.start({ args: ['--quota-backend-bytes', String(QUOTA_BYTES)] });
    // etcd3's circuit breaker would stop asking after the refusals this test provokes.
    const raw = new Etcd3({
      hosts: etcd.endpoints,
      faultHandling: { host: () => noop, global: noop },
    });
    try {
      const { registry, prefix, logs } = await connectTest(etcd.endpoints);
      const live = record(registry.register({ service: 'web', address: 'a:1' }));
      await eventually(() => live.values.length === 1);

      // Anyone who can write can fill the quota: etcd then refuses every write and lease grant.
      const big = Buffer.alloc(1_000_000, 'x');
      let filled = false;
      for (let index = 0; !filled; index += 1) {
        filled = await raw
          .put(`fill/${index}`)
          .value(big)
          .then(
            () => false,
            (error: unknown) => String(error).includes('database space exceeded'),
          );
      }
      await raw.delete().key(`${prefix}services/web/a:1`); // Deletes still pass.
      const fresh = record(registry.register({ service: 'web', address: 'b:1' }));
      await eventually(
        () => logs.some((line) => line.includes('etcd is out of space (NOSPACE alarm)')),
        10_000,
        'the wait said',
      );
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(live.error).toBeUndefined();
      expect(fresh.error).toBeUndefined();
      expect(fresh.values).toEqual([]);

      // What an operator does: free space, compact, defragment, disarm.
      await raw.delete().prefix('fill/');
      const { header } = await raw.kv.range({ key: Buffer.from('fill/') });
      await raw.kv.compact({ revision: header.revision, physical: true });
      await raw.maintenance.defragment({});
      const { alarms } = await raw.maintenance.alarm({
        action: AlarmAction.Get,
        memberID: '0',
        alarm: AlarmType.None,
      });
      for (const { memberID } of alarms) {
        await raw.maintenance.alarm({
          action: AlarmAction.Deactivate,
          memberID,
          alarm: AlarmType.Nospace,
        });
      }

      await eventually(() => fresh.values.length === 1, 20_000, 'the new registration written');
      await eventually(() => live.values.length === 2, 20_000, 'the deleted key written again');
      expect(live.latest?.reregistered).toBe(true);
      const keys = (await raw.getAll().prefix(`${prefix}services/web/`).keys()).sort();
      expect(keys).toEqual([`${prefix}services/web/a:1`, `${prefix}services/web/b:1`]);
      expect(logs.filter((line) => line.startsWith('error'))).toEqual([]);
    } finally {
      raw.close();
      await closeTestRegistries();
      await etcd.close();
    }
  });
});
