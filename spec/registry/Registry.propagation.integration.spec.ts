import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { testMeter } from '../support/testMeter';
import { useEtcd } from '../support/useEtcd';

describe('the propagation histogram (GSR_STAMP_WRITES)', () => {
  const etcd = useEtcd();
  afterEach(closeTestRegistries);

  it('records each stamped write that reaches a live list, and nothing of unstamped ones', async () => {
    const meter = testMeter();
    try {
      const { registry: reader, prefix } = await connectTest(etcd.endpoints, {
        meterProvider: meter.provider,
      });
      const { registry: writer } = await connectTest(etcd.endpoints, {
        keyPrefix: prefix,
        stampWrites: true,
      });
      const list = record(reader.endpoints$('web'));
      await eventually(() => list.latest !== undefined);
      const count = async () => (await meter.value('gsr.discovery.propagation')) ?? 0;

      // Someone else's write (the Go gsr, etcdctl): listed, not measured.
      await etcd.raw.put(`${prefix}services/web/raw:1`).value('{"zone":"a"}');
      await eventually(() => list.latest?.length === 1);
      expect(await count()).toBe(0);

      const registration = record(
        writer.register({ service: 'web', address: 'a:1', metadata: { zone: 'b' } }),
      );
      await eventually(() => list.latest?.length === 2);
      expect(await count()).toBe(1);
      // The stamp is in etcd, and out of the endpoint the reader lists.
      const stored = JSON.parse(
        (await etcd.raw.get(`${prefix}services/web/a:1`).string()) ?? '{}',
      ) as Record<string, unknown>;
      expect(stored).toEqual({ zone: 'b', 'gsr.written': expect.any(Number) as number });
      expect(list.latest?.find((e) => e.address === 'a:1')).toEqual({
        service: 'web',
        address: 'a:1',
        metadata: { zone: 'b' },
      });

      // A stamp that changes with each write is not taken for someone overwriting the key: the
      // registrar does not write it again (it would, in a loop, comparing the stamped bytes). Two
      // barrier writes seen by the writer's own list: its watch brought it its write before them.
      await writer.drain({ delayMs: 0 });
      await eventually(() => list.latest?.some((e) => e.state === 'draining') === true);
      expect(await count()).toBe(2);
      const own = record(writer.endpoints$('web'));
      for (const barrier of ['b:1', 'b:2']) {
        await etcd.raw.put(`${prefix}services/web/${barrier}`).value('');
        await eventually(() => own.latest?.some((e) => e.address === barrier) === true);
      }
      const key = await etcd.raw.get(`${prefix}services/web/a:1`).exec();
      expect(key.kvs[0]?.version).toBe('2'); // Registered, then drained: nothing more.
      expect(registration.values.map((r) => r.reregistered)).toEqual([false, false]);
      expect(await count()).toBe(2);
    } finally {
      await closeTestRegistries();
      await meter.shutdown();
    }
  });
});
