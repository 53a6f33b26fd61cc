import { Balancer } from '../../lib/balancing/Balancer';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { freePorts } from '../../lib/testing/freePorts';
import { TcpProxy } from '../../lib/testing/TcpProxy';
import { closeServers, startServers } from '../support/httpServers';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { testLogger } from '../support/testLogger';
import { useEtcd } from '../support/useEtcd';

const shown = (list: readonly Endpoint[] | undefined): string =>
  (list ?? []).map((e) => (e.state === undefined ? e.address : `${e.address} ${e.state}`)).join();

async function ask(endpoint: Endpoint, signal: AbortSignal): Promise<string> {
  return (await fetch(`http://${endpoint.address}/`, { signal })).text();
}

describe('unplanned departures (GSR_PROTECTION_THRESHOLD, GSR_PROTECTION_SECONDS)', () => {
  const etcd = useEtcd();
  afterEach(closeServers);

  it('keeps an instance cut off from etcd past its lease as lost, calls go on, and it is serving again once back', async () => {
    const [server] = await startServers(['only']);
    const address = server?.address ?? '';
    const proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
    try {
      const instance = await connectTest([proxy.url], { leaseSeconds: 1 });
      const registration = record(instance.registry.register({ service: 'web', address }));
      const { registry } = await connectTest(etcd.endpoints, { keyPrefix: instance.prefix });
      const web = record(registry.endpoints$('web'));
      await eventually(() => shown(web.latest) === address);
      const balancer = new Balancer(registry.endpoints$('web'), { logger: testLogger().logger });

      proxy.cut('blackhole'); // Its lease expires in etcd; the instance serves on.
      await eventually(() => shown(web.latest) === `${address} lost`, 15_000, 'kept as lost');
      expect(registry.freshness(web.latest ?? [])).toEqual({ kind: 'live' }); // etcd is reachable
      expect(await registry.endpoints('web')).toEqual([]); // a one-off read says what etcd holds
      await expect(balancer.call(ask)).resolves.toBe('only');

      await proxy.heal(); // Its registrar writes the key again, on a new lease.
      await eventually(() => shown(web.latest) === address, 15_000, 'serving again');
      expect(registration.error).toBeUndefined();
      balancer.close();
    } finally {
      await proxy.close();
    }
  });

  it('honours planned departures at once: unregister, close() and drain', async () => {
    const [a, b, c] = await startServers(['a', 'b', 'c']);
    const first = await connectTest(etcd.endpoints);
    const options = { keyPrefix: first.prefix };
    const [second, third] = [
      await connectTest(etcd.endpoints, options),
      await connectTest(etcd.endpoints, options),
    ];
    first.registry.register({ service: 'web', address: a?.address ?? '' }).subscribe();
    second.registry.register({ service: 'web', address: b?.address ?? '' }).subscribe();
    third.registry.register({ service: 'web', address: c?.address ?? '' }).subscribe();
    const { registry } = await connectTest(etcd.endpoints, options);
    const web = record(registry.endpoints$('web'));
    await eventually(() => web.latest?.length === 3);

    await first.registry.unregister({ service: 'web', address: a?.address ?? '' });
    await second.registry.close();
    await third.registry.drain();
    await third.registry.close();
    await eventually(() => web.latest?.length === 0, 15_000, 'every one gone');
    // Not one list in between kept any of them: each said it was leaving before its key went.
    expect(web.values.flat().filter((e) => e.state === 'lost')).toEqual([]);
  });

  it('keeps a key deleted by someone else for GSR_PROTECTION_SECONDS, and a Balancer drops one that refuses', async () => {
    const [server] = await startServers(['live']);
    const [closed] = await freePorts(1); // Nothing listens there: connections are refused.
    const gone = `127.0.0.1:${closed ?? 1}`;
    const { registry, prefix } = await connectTest(etcd.endpoints, { protectionSeconds: 3 });
    const web = record(registry.endpoints$('web'));
    await etcd.raw.put(`${prefix}services/web/${server?.address ?? ''}`).value('');
    await etcd.raw.put(`${prefix}services/web/${gone}`).value('');
    await eventually(() => web.latest?.length === 2);
    const { logger, lines } = testLogger();
    const balancer = new Balancer(registry.endpoints$('web'), { logger, strategy: 'round-robin' });

    await etcd.raw.delete().prefix(`${prefix}services/web/`); // A script gone wrong.
    await eventually(() => web.latest?.every((e) => e.state === 'lost') === true);
    expect(web.latest).toHaveLength(2);
    // Every call is answered: the one that refuses is dropped at its first refusal, retried elsewhere.
    for (let i = 0; i < 6; i++) {
      await expect(balancer.call(ask)).resolves.toBe('live');
    }
    expect(lines.filter((line) => line.includes(`dropped ${gone}, kept as lost`))).toHaveLength(1);
    // Kept for a bounded time only.
    await eventually(() => web.latest?.length === 0, 15_000, 'let go after 3 s');
    balancer.close();
  });

  it('keeps nothing with GSR_PROTECTION_THRESHOLD=0', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { protectionThreshold: 0 });
    const web = record(registry.endpoints$('web'));
    await etcd.raw.put(`${prefix}services/web/a:1`).value('');
    await eventually(() => web.latest?.length === 1);
    await etcd.raw.delete().key(`${prefix}services/web/a:1`);
    await eventually(() => web.latest?.length === 0);
    expect(web.values.flat().filter((e) => e.state === 'lost')).toEqual([]);
  });
});
