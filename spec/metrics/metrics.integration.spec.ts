import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BehaviorSubject } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { TcpProxy } from '../../lib/testing/TcpProxy';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { testLogger } from '../support/testLogger';
import { type TestMeter, testMeter } from '../support/testMeter';
import { useEtcd } from '../support/useEtcd';

describe('OpenTelemetry metrics', () => {
  const etcd = useEtcd();
  let meter: TestMeter;

  beforeEach(() => {
    meter = testMeter();
  });
  afterEach(() => meter.shutdown());

  it('records watched services, endpoints, watches, registrations, leases and etcd requests', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, {
      meterProvider: meter.provider,
    });
    // connect() asked etcd once, with a range: measured by gRPC method and outcome.
    expect(
      await meter.value('gsr.etcd.request.duration', {
        'gsr.etcd.operation': 'Range',
        'gsr.etcd.outcome': 'ok',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(await meter.value('gsr.etcd.health')).toBe(1);

    const a = record(registry.endpoints$('a'));
    const b = record(registry.endpoints$('b'));
    const registration = record(registry.register({ service: 'a', address: 'a:1' }));
    await eventually(() => registration.values.length === 1 && a.latest?.length === 1);
    await eventually(() => b.latest !== undefined);
    expect(await meter.value('gsr.discovery.services')).toBe(2);
    expect(await meter.value('gsr.discovery.endpoints', { 'gsr.service': 'a' })).toBe(1);
    expect(await meter.value('gsr.discovery.endpoints', { 'gsr.service': 'b' })).toBe(0);
    // The registration guards its key through the stream of "a" it shares: two watches of services,
    // not three, and the registry's one watch of operators' overrides.
    expect(await meter.value('gsr.discovery.watch.starts')).toBe(3);
    expect(await meter.value('gsr.registration.live')).toBe(1);
    expect(await meter.value('gsr.lease.grants')).toBe(1);
    expect(
      await meter.value('gsr.etcd.request.duration', { 'gsr.etcd.operation': 'LeaseGrant' }),
    ).toBe(1);

    // Someone deletes the key: written again. The lease is revoked: lost, granted again, written again.
    await etcd.raw.delete().key(`${prefix}services/a/a:1`);
    await eventually(async () => (await meter.value('gsr.registration.rewrites')) === 1);
    await etcd.raw.leaseClient.leaseRevoke({ ID: registration.latest?.leaseId ?? '' });
    await eventually(async () => (await meter.value('gsr.lease.losses')) === 1);
    await eventually(async () => (await meter.value('gsr.registration.rewrites')) === 2);
    expect(await meter.value('gsr.lease.grants')).toBe(2);

    registration.subscription.unsubscribe();
    b.subscription.unsubscribe();
    await eventually(async () => (await meter.value('gsr.discovery.services')) === 1);
    expect(await meter.value('gsr.registration.live')).toBe(0);
  });

  it('counts a broken watch resumed and a compacted one read again, and health 0 while cut off', async () => {
    const proxy = await TcpProxy.start(etcd.endpoints[0] ?? '');
    try {
      const { registry, prefix } = await connectTest([proxy.url], {
        meterProvider: meter.provider,
        requestTimeoutSeconds: 1,
      });
      const health = record(registry.health$);
      const list = record(registry.endpoints$('compacted'));
      await eventually(() => list.latest !== undefined);

      proxy.cut();
      await eventually(() => health.latest?.connected === false);
      expect(await meter.value('gsr.etcd.health')).toBe(0);
      // How long etcd has been silent grows while cut off: how old the kept list may be.
      const silent = (await meter.value('gsr.etcd.silence')) ?? 0;
      expect(silent).toBeGreaterThan(0);
      let grown = silent;
      await eventually(async () => {
        grown = (await meter.value('gsr.etcd.silence')) ?? 0;
        return grown > silent;
      });
      await expect(registry.endpoints('elsewhere')).rejects.toThrow(/list endpoints/);
      await etcd.raw.put(`${prefix}services/compacted/x:1`).value('');
      const { header } = await etcd.raw.put(`${prefix}elsewhere`).value(''); // past the watch's next revision
      await etcd.raw.kv.compact({ revision: header.revision, physical: true });
      await proxy.heal();

      await eventually(() => list.latest?.length === 1, 15_000);
      expect(await meter.value('gsr.discovery.watch.resumes')).toBeGreaterThanOrEqual(1);
      // The service's watch was compacted past (the overrides' may be too, as its revision falls).
      expect(
        await meter.value('gsr.discovery.watch.rereads', { 'gsr.reason': 'cancelled' }),
      ).toBeGreaterThanOrEqual(1);
      await eventually(async () => (await meter.value('gsr.etcd.health')) === 1);
      expect(await meter.value('gsr.etcd.silence')).toBeLessThan(grown); // Heard from again.
      const ranges = (await meter.read()).get('gsr.etcd.request.duration') ?? [];
      expect(
        ranges.filter(
          ({ attributes }) =>
            attributes['gsr.etcd.operation'] === 'Range' && attributes['gsr.etcd.outcome'] !== 'ok',
        ),
      ).not.toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('stops reporting a registry once it is closed', async () => {
    await meter.shutdown();
    meter = testMeter('delta');
    const { registry } = await connectTest(etcd.endpoints, { meterProvider: meter.provider });
    const list = record(registry.endpoints$('gone'));
    await eventually(() => list.latest !== undefined);
    expect((await meter.read()).get('gsr.etcd.health')).toHaveLength(1);
    await registry.close();
    const after = await meter.read();
    expect(after.get('gsr.etcd.health') ?? []).toEqual([]);
    expect(after.get('gsr.discovery.endpoints') ?? []).toEqual([]);
    expect(after.get('gsr.discovery.services')?.map((point) => point.value)).toEqual([-1]);
  });

  it('exports to Prometheus through the global provider, as the README shows', async () => {
    // The README's snippet, but with the exporter's handler mounted on a free port.
    const exporter = new PrometheusExporter({ preventServerStart: true });
    metrics.setGlobalMeterProvider(
      new MeterProvider({
        readers: [exporter],
        // This exporter does not add units to names (the Collector's does): the README's view.
        views: [
          {
            instrumentName: 'gsr.etcd.request.duration',
            name: 'gsr.etcd.request.duration.seconds',
          },
        ],
      }),
    );
    const server = createServer((request, response) => {
      exporter.getMetricsRequestHandler(request, response);
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { registry } = await connectTest(etcd.endpoints); // no meterProvider: the global one
      const registration = record(registry.register({ service: 'web', address: 'a:1' }));
      await eventually(() => registration.values.length === 1);
      const { port } = server.address() as AddressInfo;
      const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      // Prometheus names: dots become underscores, counters end in _total; the scope is a label.
      expect(scraped).toMatch(/^gsr_registration_live\{otel_scope_name="gsr"\} 1$/m);
      expect(scraped).toMatch(/^gsr_lease_grants_total\{otel_scope_name="gsr"\} 1$/m);
      expect(scraped).toMatch(/^gsr_etcd_health\{otel_scope_name="gsr"\} 1$/m);
      // Counters users alert on have a series from the start.
      expect(scraped).toMatch(/^gsr_lease_losses_total\{otel_scope_name="gsr"\} 0$/m);
      expect(scraped).toMatch(/^gsr_registration_rewrites_total\{otel_scope_name="gsr"\} 0$/m);
      expect(scraped).toMatch(
        /^gsr_etcd_request_duration_seconds_count\{gsr_etcd_operation="LeaseGrant",gsr_etcd_outcome="ok",otel_scope_name="gsr"\} 1$/m,
      );
    } finally {
      server.close();
      metrics.disable();
      await exporter.shutdown();
    }
  });

  it('records a balancer’s calls, retries and ejections by endpoint, when asked', async () => {
    const ep = (address: string): Endpoint => ({ service: 'api', address });
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('good:1'), ep('dead:1')]);
    const balancer = new Balancer(list$, {
      meterProvider: meter.provider,
      endpointMetrics: true,
      logger: testLogger().logger,
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    for (let i = 0; i < 4; i++) {
      await balancer.call((endpoint) =>
        endpoint.address === 'dead:1' ? Promise.reject(refused) : Promise.resolve(endpoint.address),
      );
    }
    balancer.close();
    const calls = (attributes: Record<string, string>) =>
      meter.value('gsr.balancer.calls', { 'gsr.service': 'api', ...attributes });
    // Round-robin sent one call to the dead endpoint, which refused it: retried on the good one and
    // ejected at once; the good one took every call.
    expect(await calls({ 'gsr.endpoint.address': 'dead:1', 'gsr.outcome': 'failure' })).toBe(1);
    expect(await calls({ 'gsr.endpoint.address': 'good:1', 'gsr.outcome': 'success' })).toBe(4);
    expect(await meter.value('gsr.balancer.retries', { 'gsr.endpoint.address': 'dead:1' })).toBe(1);
    expect(await meter.value('gsr.balancer.ejections', { 'gsr.endpoint.address': 'dead:1' })).toBe(
      1,
    );
  });
});
