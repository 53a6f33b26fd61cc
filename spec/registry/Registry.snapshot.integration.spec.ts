import { map } from 'rxjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Balancer } from '../../lib/balancing/Balancer';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { isEtcdUnavailableError } from '../../lib/errors/EtcdUnavailableError';
import { TcpProxy } from '../../lib/testing/TcpProxy';
import { closeServers, startServers } from '../support/httpServers';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const addresses = (list: readonly Endpoint[] | undefined) =>
  (list ?? []).map((e) => e.address).join();

describe('last-known-good snapshots (GSR_SNAPSHOT_DIR)', () => {
  const etcd = useEtcd();
  let dir: string;
  let proxy: TcpProxy;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gsr-snapshot-'));
    proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
  });
  afterEach(async () => {
    await proxy.close();
    await closeServers();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A process that followed `web` (and overrides) through the proxy, then closed: the snapshot. */
  async function followedOnce(prefix?: string): Promise<{ prefix: string; closedAt: number }> {
    const { registry, prefix: used } = await connectTest([proxy.url], {
      snapshotDir: dir,
      ...(prefix !== undefined && { keyPrefix: prefix }),
    });
    const web = record(registry.endpoints$('web'));
    const services = record(registry.services$());
    await eventually(() => web.latest !== undefined && services.latest !== undefined);
    await registry.close();
    return { prefix: used, closedAt: Date.now() };
  }

  it('starts while etcd is down from the snapshot, marked as such, and turns live when etcd answers', async () => {
    const { prefix } = await connectTest(etcd.endpoints).then(({ prefix: p }) => ({ prefix: p }));
    await etcd.raw.put(`${prefix}services/web/a:1`).value('{"zone":"z1"}');
    await etcd.raw.put(`${prefix}services/web/b:1`).value('');
    await etcd.raw
      .put(`${prefix}overrides/web/b:1`)
      .value('{"state":"maintenance","reason":"disk"}');
    const { closedAt } = await followedOnce(prefix);

    proxy.cut('reset');
    const { registry, logs } = await connectTest([proxy.url], {
      keyPrefix: prefix,
      snapshotDir: dir,
      waitForEtcd: false,
    });
    const web = record(registry.endpoints$('web'));
    await eventually(() => web.latest !== undefined, 10_000, 'the snapshot shown');
    expect(web.latest).toEqual([
      { service: 'web', address: 'a:1', metadata: { zone: 'z1' } },
      expect.objectContaining({ address: 'b:1', state: 'maintenance' }),
    ]);
    const freshness = registry.freshness(web.latest ?? []);
    expect(freshness.kind).toBe('snapshot');
    expect('since' in freshness && freshness.since.getTime()).toBeLessThanOrEqual(closedAt);
    expect(logs.join('\n')).toMatch(/showing its snapshot of .* \(2 entries\) until it does/);
    // The services' names too (what the dashboard, http-sd and xDS list).
    const services = record(registry.services$());
    await eventually(() => services.latest !== undefined, 10_000, 'the names shown');
    expect(services.latest).toEqual(['web']);
    expect(registry.freshness(services.latest ?? []).kind).toBe('snapshot');
    // A one-off read is linearizable: it says etcd is unreachable rather than answer from before.
    const read = await registry.endpoints('web').catch((error: unknown) => error);
    expect(isEtcdUnavailableError(read)).toBe(true);

    // Meanwhile etcd moved on; once it answers, etcd's list replaces the snapshot.
    await etcd.raw.delete().key(`${prefix}services/web/b:1`);
    await proxy.heal();
    await eventually(() => addresses(web.latest) === 'a:1', 20_000, 'live');
    expect(registry.freshness(web.latest ?? []).kind).toBe('live');
    expect(web.error).toBeUndefined();
  });

  it('calls an instance it knows from the snapshot while etcd is down', async () => {
    const [server] = await startServers(['only']);
    const { prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/api/${server?.address ?? ''}`).value('');
    const { registry: writer } = await connectTest([proxy.url], {
      keyPrefix: prefix,
      snapshotDir: dir,
    });
    const api = record(writer.endpoints$('api'));
    await eventually(() => api.latest?.length === 1);
    await writer.close();

    proxy.cut('blackhole');
    const { registry } = await connectTest([proxy.url], {
      keyPrefix: prefix,
      snapshotDir: dir,
      waitForEtcd: false,
    });
    const balancer = new Balancer(registry.endpoints$('api'));
    const answer = await balancer.call(async (endpoint, signal) => {
      const response = await fetch(`http://${endpoint.address}/`, { signal });
      return response.text();
    });
    expect(answer).toBe('only');
    balancer.close();
  });

  it('never shows a snapshot when etcd answers, and keeps it up to date', async () => {
    const { prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/old:1`).value('');
    await followedOnce(prefix);
    await etcd.raw.delete().key(`${prefix}services/web/old:1`);
    await etcd.raw.put(`${prefix}services/web/new:1`).value('');

    const { registry, logs } = await connectTest([proxy.url], {
      keyPrefix: prefix,
      snapshotDir: dir,
    });
    // Each list with what it said of itself when it came.
    const web = record(
      registry
        .endpoints$('web')
        .pipe(map((list) => `${addresses(list)} ${registry.freshness(list).kind}`)),
    );
    await eventually(() => web.latest === 'new:1 live');
    await etcd.raw.put(`${prefix}services/web/newer:1`).value('');
    await eventually(() => web.latest === 'new:1,newer:1 live');
    // Etcd answers within half a second (unless the machine is very busy: then the snapshot comes
    // first, and says so).
    const shown = web.values.filter((value) => value === 'old:1 snapshot');
    expect(web.values).toEqual([...shown, 'new:1 live', 'new:1,newer:1 live']);
    expect(logs.some((line) => line.includes('snapshot'))).toBe(shown.length > 0);
    await registry.close();

    // The next start without etcd shows the list as it was last.
    proxy.cut('reset');
    const { registry: next } = await connectTest([proxy.url], {
      keyPrefix: prefix,
      snapshotDir: dir,
      waitForEtcd: false,
    });
    const later = record(next.endpoints$('web'));
    await eventually(() => later.latest !== undefined, 10_000, 'the snapshot shown');
    expect(addresses(later.latest)).toBe('new:1,newer:1');
  });

  it('says a list kept through an outage is from before, and since when', async () => {
    const { registry, prefix } = await connectTest([proxy.url], { snapshotDir: dir });
    await etcd.raw.put(`${prefix}services/web/a:1`).value('');
    const web = record(registry.endpoints$('web'));
    const health = record(registry.health$);
    await eventually(() => addresses(web.latest) === 'a:1');
    expect(registry.freshness(web.latest ?? [])).toEqual({ kind: 'live' });
    proxy.cut('reset');
    await eventually(() => health.latest?.connected === false, 15_000, 'reported down');
    expect(registry.freshness(web.latest ?? [])).toEqual({
      kind: 'kept',
      since: health.latest?.since,
    });
    expect(addresses(web.latest)).toBe('a:1');
    await proxy.heal();
    await eventually(() => health.latest?.connected === true, 15_000, 'back');
    expect(registry.freshness(web.latest ?? [])).toEqual({ kind: 'live' });
    // An array it did not hand out is taken as live.
    expect(registry.freshness([])).toEqual({ kind: 'live' });
  });
});
