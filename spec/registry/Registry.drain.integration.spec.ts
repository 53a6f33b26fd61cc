import { Balancer } from '../../lib/balancing/Balancer';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { endpointState } from '../../lib/endpoint/EndpointState';
import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const states = (list: readonly Endpoint[] | undefined) =>
  (list ?? []).map((endpoint) => `${endpoint.address} ${endpointState(endpoint)}`);

/** Drain, health checks and operators' overrides, between registries on a real etcd. */
describe('deploys without a failed call (real etcd)', () => {
  const etcd = useEtcd();
  afterEach(closeTestRegistries);

  /** An instance's registry and a client's, on the same prefix. */
  async function setUp() {
    const instance = await connectTest(etcd.endpoints);
    const client = await connectTest(etcd.endpoints, { keyPrefix: instance.prefix });
    return { instance: instance.registry, client: client.registry, prefix: instance.prefix };
  }

  it("drain(): once it resolves, the client's balancer sends no new call to the draining instance", async () => {
    const { instance, client } = await setUp();
    const other = await connectTest(etcd.endpoints, {
      keyPrefix: instance.config.keyPrefix,
    });
    record(instance.register({ service: 'api', address: '10.0.0.1:80' }));
    record(other.registry.register({ service: 'api', address: '10.0.0.2:80' }));
    const balancer = new Balancer(client.endpoints$('api'));
    await eventually(() => balancer.endpoints.length === 2);

    await instance.drain(); // Confirmed by etcd, then GSR_DRAIN_DELAY_MS's 2 s for clients to see it.
    const picks = Array.from({ length: 50 }, () => balancer.pick()?.address);
    expect(new Set(picks)).toEqual(new Set(['10.0.0.2:80']));
    expect(states(await client.endpoints('api'))).toEqual([
      '10.0.0.1:80 draining',
      '10.0.0.2:80 serving',
    ]);

    // With no serving endpoint left, the draining one still takes calls (as Kubernetes does).
    await other.registry.drain({ delayMs: 0 });
    await eventually(() => balancer.endpoints.every((e) => e.state === 'draining'));
    expect(await balancer.call((endpoint) => Promise.resolve(endpoint.address))).toMatch(
      /^10\.0\.0\.[12]:80$/,
    );
    balancer.close();
  });

  it('keeps a draining key through a lost lease: it is written back draining', async () => {
    const { instance, client } = await setUp();
    const registration = record(instance.register({ service: 'api', address: '10.0.0.1:80' }));
    await eventually(() => registration.values.length === 1);
    await instance.drain({ delayMs: 0 });
    await etcd.raw.leaseClient.leaseRevoke({ ID: registration.latest?.leaseId ?? '' });
    await eventually(() => registration.latest?.reregistered === true, 10_000, 're-registered');
    expect(registration.latest?.state).toBe('draining');
    expect(states(await client.endpoints('api'))).toEqual(['10.0.0.1:80 draining']);
  });

  it('a failing health check takes the endpoint out within checkIntervalMs x unhealthyAfter, and a passing one brings it back', async () => {
    const { instance, client } = await setUp();
    let healthy = true;
    const registration = record(
      instance.register(
        { service: 'api', address: '10.0.0.1:80' },
        {
          check: () => {
            if (!healthy) throw new Error('database down');
          },
          checkIntervalMs: 100,
          unhealthyAfter: 2,
          healthyAfter: 2,
        },
      ),
    );
    const list = record(client.endpoints$('api'));
    await eventually(() => states(list.latest).join() === '10.0.0.1:80 serving');
    healthy = false;
    await eventually(() => states(list.latest).join() === '10.0.0.1:80 failing', 5000, 'failing');
    healthy = true;
    await eventually(() => states(list.latest).join() === '10.0.0.1:80 serving', 5000, 'serving');
    // The registration says so once etcd confirmed the write, which a watcher may see first.
    await eventually(() => registration.values.length === 3, 5000, 'the registration to say so');
    expect(registration.values.map((r) => r.state)).toEqual(['serving', 'failing', 'serving']);
  });

  it("an operator's maintenance survives the instance's restart at the same address", async () => {
    const { instance, client, prefix } = await setUp();
    const first = record(instance.register({ service: 'api', address: '10.0.0.1:80' }));
    const list = record(client.endpoints$('api'));
    await eventually(() => list.latest?.length === 1);
    await client.setMaintenance('api', '10.0.0.1:80', { reason: 'disk swap' });
    await eventually(() => states(list.latest).join() === '10.0.0.1:80 maintenance');
    // The restart: the old registration goes, a new registry registers the address again.
    first.subscription.unsubscribe();
    await eventually(() => list.latest?.length === 0);
    const restarted = await connectTest(etcd.endpoints, { keyPrefix: prefix });
    record(restarted.registry.register({ service: 'api', address: '10.0.0.1:80' }));
    await eventually(() => list.latest?.length === 1);
    expect(states(list.latest)).toEqual(['10.0.0.1:80 maintenance']);
    expect(list.latest?.[0]?.maintenance?.reason).toBe('disk swap');
    const balancer = new Balancer(client.endpoints$('api'), { timeout: 0 });
    expect(balancer.pick()).toBeUndefined();
    balancer.close();
    await client.clearMaintenance('api', '10.0.0.1:80');
    await eventually(() => states(list.latest).join() === '10.0.0.1:80 serving');
  });
});
