import { connectTest } from '../support/testRegistries';
import { eventually } from '../support/observe';
import { useEtcd } from '../support/useEtcd';

/** No lease outlives the registrations that needed it: etcd's lease count is what shows it. */
describe('register: leases', () => {
  const etcd = useEtcd();
  const leases = async () => (await etcd.raw.leaseClient.leaseLeases()).leases.length;

  it('leaves no lease behind when close() comes moments after a registration', async () => {
    for (let i = 0; i < 5; i++) {
      const { registry } = await connectTest(etcd.endpoints);
      registry.register({ service: 'hasty', address: `a:${i + 1}` }).subscribe();
      await new Promise((resolve) => setTimeout(resolve, i * 5));
      await registry.close();
    }
    // On 0.1, 2 to 3 keyless leases were left after these five (they expired only with their TTL).
    expect(await leases()).toBe(0);
  });

  it('revokes the lease of a registration that ended before its lease was granted', async () => {
    const { registry } = await connectTest(etcd.endpoints, { leaseSeconds: 60 });
    const subscription = registry.register({ service: 'fleeting', address: 'a:1' }).subscribe();
    subscription.unsubscribe(); // Before etcd answered the grant.
    // On 0.1 the lease was granted all the same and kept alive until close().
    await eventually(async () => (await leases()) === 0, 5000, 'no lease left');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await leases()).toBe(0);
  });
});
