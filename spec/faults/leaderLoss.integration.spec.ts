import { Etcd3 } from 'etcd3';
import type { Subscription } from 'rxjs';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const addresses = (list: readonly Endpoint[] | undefined) =>
  (list ?? []).map((e) => e.address).join();

describe('leader loss in a three-member cluster', () => {
  const etcd = useEtcd({ members: 3 });

  it('loses no registration, keeps writing on the quorum, and every stream converges', async () => {
    const { registry: holder, prefix } = await connectTest(etcd.endpoints, { leaseSeconds: 10 });
    const { registry: churner } = await connectTest(etcd.endpoints, { keyPrefix: prefix });
    const observers = await Promise.all(
      [0, 1, 2].map(() => connectTest(etcd.endpoints, { keyPrefix: prefix })),
    );

    const held = Array.from({ length: 20 }, (_, i) =>
      record(holder.register({ service: 'svc', address: `held-${i}:80` })),
    );
    const streams = observers.map(({ registry }) => record(registry.endpoints$('svc')));
    await eventually(() => held.every((r) => r.values.length === 1));
    await eventually(() => streams.every((s) => s.latest?.length === 20));

    // Endpoints keep coming and going throughout.
    const churning = new Map<string, Subscription>();
    let written = 0;
    let writtenAfterKill = 0;
    let killedAt = Infinity;
    const churn = setInterval(() => {
      const address = `churn-${Math.floor(Math.random() * 10)}:80`;
      const existing = churning.get(address);
      if (existing) {
        existing.unsubscribe();
        churning.delete(address);
      } else {
        churning.set(
          address,
          churner.register({ service: 'svc', address }).subscribe(() => {
            written += 1;
            if (Date.now() > killedAt) {
              writtenAfterKill += 1;
            }
          }),
        );
      }
    }, 30);

    await eventually(() => written >= 5, 10_000, 'writes flowing before the kill');
    const leader = await etcd.cluster.leader();
    expect(leader).toBeDefined();
    killedAt = Date.now();
    await leader?.kill();
    await eventually(() => writtenAfterKill >= 5, 15_000, 'writes on the surviving quorum');
    clearInterval(churn);

    const survivors = new Etcd3({
      hosts: etcd.members.filter((m) => m.running).map((m) => m.clientUrl),
    });
    try {
      const truth = async () =>
        (await survivors.getAll().prefix(`${prefix}services/svc/`).keys())
          .map((key) => key.slice(`${prefix}services/svc/`.length))
          .sort()
          .join();
      await eventually(
        async () => {
          const expected = await truth();
          return streams.every((s) => addresses(s.latest) === expected);
        },
        10_000,
        'every stream equal to etcd',
      );
      // No registration lost: all 20 still there, on the lease they started with.
      const leaseIds = new Set(held.map((r) => r.latest?.leaseId));
      expect(leaseIds.size).toBe(1);
      expect(held.every((r) => r.values.length === 1 && r.error === undefined)).toBe(true);
      for (let i = 0; i < 20; i++) {
        const kv = (await survivors.get(`${prefix}services/svc/held-${i}:80`).exec()).kvs[0];
        expect(kv?.lease).toBe([...leaseIds][0]);
      }
      expect(streams.every((s) => s.error === undefined)).toBe(true);
      expect(written).toBeGreaterThan(writtenAfterKill);
    } finally {
      churning.forEach((subscription) => subscription.unsubscribe());
      survivors.close();
      await leader?.start();
      await etcd.cluster.waitHealthy();
    }
  });
});
