import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { TcpProxy, type CutMode } from '../../lib/testing/TcpProxy';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const addresses = (list: readonly Endpoint[] | undefined) =>
  (list ?? []).map((e) => (e.state === 'lost' ? `${e.address} (lost)` : e.address)).join();

describe('a client partitioned from etcd for longer than the lease TTL', () => {
  const etcd = useEtcd();

  it.each<CutMode>(['reset', 'blackhole'])(
    'expires for everyone else, then comes back on a new lease and catches up (%s)',
    async (mode) => {
      const proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
      try {
        const { registry: cutOff, prefix } = await connectTest([proxy.url], { leaseSeconds: 2 });
        const { registry: observer } = await connectTest(etcd.endpoints, { keyPrefix: prefix });
        const health = record(cutOff.health$);
        const registration = record(cutOff.register({ service: 'svc', address: 'cut:1' }));
        const cutOffView = record(cutOff.endpoints$('svc'));
        const othersView = record(observer.endpoints$('svc'));
        await eventually(() => addresses(othersView.latest) === 'cut:1');
        await eventually(() => addresses(cutOffView.latest) === 'cut:1');

        proxy.cut(mode);
        // For everyone else, the endpoint expires with its lease: it did not say it was leaving, and
        // the service would be empty, so lists keep it as the last resort, marked lost...
        await eventually(
          () => addresses(othersView.latest) === 'cut:1 (lost)',
          10_000,
          'expired for others',
        );
        // ...while the world moves on: with a live one beside it, it goes.
        const other = record(observer.register({ service: 'svc', address: 'other:1' }));
        await eventually(() => other.values.length === 1);
        await eventually(() => addresses(othersView.latest) === 'other:1');
        await eventually(() => health.values.some((h) => !h.connected), 15_000, 'reported down');

        await proxy.heal();
        await eventually(() => registration.values.length === 2, 15_000, 're-registered');
        await eventually(() => addresses(othersView.latest) === 'cut:1,other:1', 15_000, 'back');
        await eventually(
          () => addresses(cutOffView.latest) === 'cut:1,other:1',
          15_000,
          'caught up',
        );
        await eventually(() => health.latest?.connected === true, 15_000, 'healthy again');

        expect(registration.latest?.reregistered).toBe(true);
        expect(registration.latest?.leaseId).not.toBe(registration.values[0]?.leaseId);
        expect([registration.error, cutOffView.error]).toEqual([undefined, undefined]);
      } finally {
        await proxy.close();
      }
    },
  );
});
