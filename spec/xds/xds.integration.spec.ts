import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Subscription } from 'rxjs';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { Registry } from '../../lib/registry/Registry';
import { encodeOrcaReport } from '../../lib/orca/orcaCodec';
import { createXdsServer, type XdsServer } from '../../lib/xds/createXdsServer';
import { readmeBlock } from '../readme/readmeSnippets';
import { decodeAny, openAds, type AdsTestStream, TYPE } from '../support/adsClient';
import { eventually } from '../support/observe';
import { requireBuild } from '../support/requireBuild';
import { repoRoot, runNode } from '../support/runNode';
import { connectTest, uniquePrefix } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';
import { startWhoAmIServer, type WhoAmIServer } from '../support/whoAmIServer';

const servers: XdsServer[] = [];
const streams: AdsTestStream[] = [];
const registrations: Subscription[] = [];
const whoAmIs: WhoAmIServer[] = [];
afterEach(async () => {
  streams.splice(0).forEach((stream) => stream.close());
  registrations.splice(0).forEach((registration) => registration.unsubscribe());
  await Promise.all(servers.splice(0).map((server) => server.close()));
  whoAmIs.splice(0).forEach((server) => server.kill());
});

async function serve(registry: Registry, options?: Parameters<typeof createXdsServer>[1]) {
  const server = await createXdsServer(registry, options);
  servers.push(server);
  return server;
}

function ads(port: number, authority?: string): AdsTestStream {
  const stream = openAds(port, authority);
  streams.push(stream);
  return stream;
}

/** Registers `endpoint` and resolves once its key is written. */
function live(registry: Registry, endpoint: Endpoint): Promise<Subscription> {
  return new Promise((resolve, reject) => {
    const subscription: Subscription = registry.register(endpoint).subscribe({
      next: () => resolve(subscription),
      error: reject,
    });
    registrations.push(subscription);
  });
}

describe('the xDS server, with a grpc-js xDS client (@grpc/grpc-js-xds) in its own process', () => {
  const etcd = useEtcd();
  let client: ChildProcess | undefined;
  afterEach(() => {
    client?.kill('SIGKILL');
    client = undefined;
  });

  /** Starts the client on `services`; every call it makes is recorded as `[time, service, outcome]`. */
  function startClient(
    port: number,
    services: readonly string[],
    node?: object,
    env: Record<string, string> = {},
  ): [number, string, string][] {
    // The README's bootstrap file, as printed, naming this server (and the node given).
    const printed = readmeBlock('json', 'xds_servers').replace(
      '127.0.0.1:18000',
      `127.0.0.1:${port}`,
    );
    const bootstrap =
      node === undefined ? printed : JSON.stringify({ ...(JSON.parse(printed) as object), node });
    client = spawn(
      process.execPath,
      [join(repoRoot, 'spec', 'support', 'xdsClientProcess.cjs'), ...services],
      {
        cwd: repoRoot,
        env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: bootstrap, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const calls: [number, string, string][] = [];
    createInterface({ input: client.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const [time, service, ...outcome] = line.split(' ');
      calls.push([Number(time), service ?? '', outcome.join(' ')]);
    });
    return calls;
  }

  /** What the calls to `service` since `since` were answered with. */
  const answers = (calls: [number, string, string][], service: string, since = 0): string[] =>
    calls
      .filter(([time, name]) => name === service && time >= since)
      .map(([, , outcome]) => outcome);

  it('reaches servers registered with gsr through xds:///<service>, follows arrivals and departures, and keeps services apart', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const xds = await serve(registry);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => startWhoAmIServer(name)));
    whoAmIs.push(...[a, b, c].filter((server) => server !== undefined));
    if (a === undefined || b === undefined || c === undefined) {
      throw new Error('three servers expected');
    }
    const leaving = await live(registry, { service: 'greeter', address: a.address });
    await live(registry, { service: 'other', address: c.address });
    const calls = startClient(xds.port, ['greeter', 'other']);
    await eventually(
      () => answers(calls, 'greeter').includes('ok a'),
      20_000,
      'the first call through xDS',
    );

    await live(registry, { service: 'greeter', address: b.address });
    const arrived = Date.now();
    await eventually(
      () => answers(calls, 'greeter', arrived).includes('ok b'),
      10_000,
      'the arrival reaching the client',
    );

    leaving.unsubscribe();
    await eventually(async () => (await registry.endpoints('greeter')).length === 1);
    const departed = Date.now();
    await eventually(
      () =>
        answers(calls, 'greeter', departed).filter((outcome) => outcome === 'ok b').length >= 20,
      10_000,
      'calls going to the remaining server',
    );
    const settled = answers(calls, 'greeter', departed);
    expect(settled.slice(settled.lastIndexOf('ok a') + 1).length).toBeGreaterThanOrEqual(20);

    // The other service was reached all along, by its own server only; once a service's first
    // configuration arrived (calls before it wait for it, and may time out on a busy machine), no call
    // failed anywhere.
    const fromFirstAnswer = (service: string): Set<string> => {
      const outcomes = answers(calls, service);
      return new Set(outcomes.slice(outcomes.findIndex((outcome) => outcome.startsWith('ok'))));
    };
    expect(fromFirstAnswer('other')).toEqual(new Set(['ok c']));
    expect(fromFirstAnswer('greeter')).toEqual(new Set(['ok a', 'ok b']));
    expect(xds.stats()).toMatchObject({ streams: 1, nacks: 0, refused: 0 });
  });

  /** Starts WhoAmI servers named `names`. */
  async function whoAmI(names: readonly string[]): Promise<WhoAmIServer[]> {
    const started = await Promise.all(names.map((name) => startWhoAmIServer(name)));
    whoAmIs.push(...started);
    return started;
  }

  /** The share of `calls` (outcomes) answered by each server, from the `from`th on. */
  const shares = (outcomes: readonly string[]): Record<string, number> => {
    const counts: Record<string, number> = {};
    outcomes.forEach((outcome) => (counts[outcome] = (counts[outcome] ?? 0) + 1));
    return Object.fromEntries(
      Object.entries(counts).map(([outcome, count]) => [outcome, count / outcomes.length]),
    );
  };

  it("weighs endpoints by metadata.weight, and keeps calling draining ones when no other is left, as gsr's Balancer does", async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const xds = await serve(registry, { coalesceMs: 0 });
    const [heavy, light] = (await whoAmI(['heavy', 'light'])) as [WhoAmIServer, WhoAmIServer];
    await live(registry, { service: 'greeter', address: heavy.address, metadata: { weight: 3 } });
    await live(registry, { service: 'greeter', address: light.address, metadata: { weight: 1 } });
    const calls = startClient(xds.port, ['greeter']);
    await eventually(
      () => answers(calls, 'greeter').filter((outcome) => outcome.startsWith('ok')).length >= 200,
      30_000,
      '200 calls through xDS',
    );
    const answered = answers(calls, 'greeter');
    const settled = answered.slice(answered.findIndex((outcome) => outcome.startsWith('ok')));
    // 3:1 by weight (calls are drawn at random by locality weight: 75 % ± 4 σ over 200).
    expect(shares(settled.slice(0, 200))['ok heavy']).toBeGreaterThan(0.62);
    expect(shares(settled.slice(0, 200))['ok heavy']).toBeLessThan(0.88);

    // Every endpoint draining: the client keeps calling them, none fails.
    await registry.drain({ delayMs: 0 });
    await eventually(async () =>
      (await registry.endpoints('greeter')).every((endpoint) => endpoint.state === 'draining'),
    );
    const drained = Date.now();
    await eventually(
      () => answers(calls, 'greeter', drained).length >= 50,
      30_000,
      '50 calls after the drain',
    );
    expect(new Set(answers(calls, 'greeter', drained))).toEqual(new Set(['ok heavy', 'ok light']));
    expect(xds.stats()).toMatchObject({ nacks: 0 });
  });

  it('has clients weigh endpoints by their load reports when a service asks for weighted round robin', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const xds = await serve(registry, {
      coalesceMs: 0,
      weightedRoundRobin: { services: ['greeter'], blackoutPeriodMs: 0, weightUpdatePeriodMs: 100 },
    });
    const [light, heavy] = (await whoAmI(['light', 'heavy'])) as [WhoAmIServer, WhoAmIServer];
    // The same qps; heavy's utilization 4 times light's: weights 4:1.
    light.report = encodeOrcaReport({ qps: 100, applicationUtilization: 0.1 });
    heavy.report = encodeOrcaReport({ qps: 100, applicationUtilization: 0.4 });
    await live(registry, { service: 'greeter', address: light.address });
    await live(registry, { service: 'greeter', address: heavy.address });
    const calls = startClient(xds.port, ['greeter'], undefined, {
      GRPC_EXPERIMENTAL_XDS_WRR_LB: 'true',
    });
    await eventually(
      () => {
        const last = answers(calls, 'greeter').slice(-100);
        return last.length === 100 && last.filter((outcome) => outcome === 'ok light').length > 70;
      },
      30_000,
      'calls weighed 4:1 by load reports',
    );
    expect(xds.stats()).toMatchObject({ nacks: 0 });
  });

  it("spreads a client's calls over zones by zone-aware routing from its node.cluster and node.locality", async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const xds = await serve(registry, { coalesceMs: 0, locality: { minClusterSize: 4 } });
    const servers = await whoAmI(['a0', 'b0', 'b1', 'b2']);
    for (const server of servers) {
      await live(registry, {
        service: 'greeter',
        address: server.address,
        metadata: { zone: server.name.slice(0, 1) },
      });
    }
    // The callers: one in zone a (this client), one in zone b.
    await live(registry, { service: 'web', address: '10.0.0.1:80', metadata: { zone: 'a' } });
    await live(registry, { service: 'web', address: '10.0.0.2:80', metadata: { zone: 'b' } });
    const calls = startClient(xds.port, ['greeter'], {
      id: 'web-in-a',
      cluster: 'web',
      locality: { zone: 'a' },
    });
    await eventually(
      () => answers(calls, 'greeter').filter((outcome) => outcome.startsWith('ok')).length >= 200,
      30_000,
      '200 calls through xDS',
    );
    const answered = answers(calls, 'greeter');
    const settled = answered.slice(answered.findIndex((outcome) => outcome.startsWith('ok')));
    // Zone a has 25 % of the servers and 50 % of the callers: half of this client's calls stay in a
    // (50 % ± 4 σ over 200), the rest spill to b.
    const local = shares(settled.slice(0, 200))['ok a0'] ?? 0;
    expect(local).toBeGreaterThan(0.36);
    expect(local).toBeLessThan(0.64);
    expect(new Set(settled.slice(0, 200))).toEqual(new Set(['ok a0', 'ok b0', 'ok b1', 'ok b2']));
  });
});

describe('createXdsServer, speaking ADS', () => {
  const etcd = useEtcd();

  it('serves a listener, route, cluster and assignment per service, with zones, weights and states', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    const put = (address: string, metadata: object) =>
      etcd.raw.put(`${prefix}services/web/${address}`).value(JSON.stringify(metadata));
    await put('10.0.0.1:80', { zone: 'eu-1a', weight: 2 });
    await put('10.0.0.2:80', { zone: 'eu-1a', weight: 0.5 });
    await put('10.0.0.3:80', { zone: 'eu-1b', 'gsr.state': 'draining' });
    await put('10.0.0.4:80', { region: 'eu', zone: 'eu-1b', 'gsr.state': 'failing' });
    await put('[::1]:80', {});
    await put('web.internal:80', {});
    await etcd.raw.put(`${prefix}services/db/10.0.1.1:5432`).value('');
    await registry.setMaintenance('web', '10.0.0.2:80', { reason: 'disk' });
    await eventually(async () => (await registry.endpoints('web')).length === 6);
    const xds = await serve(registry);
    const stream = ads(xds.port);

    stream.send({ type_url: TYPE.listener, resource_names: ['web'], node: { id: 'n' } });
    const listeners = await stream.next();
    expect(listeners).toMatchObject({ type_url: TYPE.listener, version_info: '1' });
    const [listener] = listeners.resources as [
      { name: string; api_listener: { api_listener: { type_url: string; value: Uint8Array } } },
    ];
    expect(listener.name).toBe('web');
    const manager = decodeAny(
      listener.api_listener.api_listener.type_url,
      listener.api_listener.api_listener.value,
    );
    expect(manager).toMatchObject({
      rds: { route_config_name: 'web', config_source: { ads: {}, resource_api_version: 'V3' } },
      http_filters: [{ name: 'envoy.filters.http.router' }],
    });
    stream.send({
      type_url: TYPE.listener,
      resource_names: ['web'],
      response_nonce: listeners.nonce,
      version_info: '1',
    });

    stream.send({ type_url: TYPE.route, resource_names: ['web'] });
    expect((await stream.next()).resources).toEqual([
      {
        name: 'web',
        virtual_hosts: [
          {
            name: 'web',
            domains: ['*'],
            routes: [{ match: { prefix: '' }, route: { cluster: 'web' } }],
          },
        ],
      },
    ]);

    stream.send({ type_url: TYPE.cluster, resource_names: [] }); // every cluster, as Envoy asks
    const clusters = await stream.next();
    expect(clusters.resources.map((cluster) => cluster.name)).toEqual(['db', 'web']);
    expect(clusters.resources[1]).toMatchObject({
      type: 'EDS',
      eds_cluster_config: { service_name: 'web', eds_config: { ads: {} } },
    });

    stream.send({ type_url: TYPE.endpoints, resource_names: ['web'] });
    const [assignment] = (await stream.next()).resources;
    const endpoint = (address: string, port: number, health: string, weight: number) => ({
      endpoint: { address: { socket_address: { address, port_value: port } } },
      health_status: health,
      load_balancing_weight: { value: weight },
    });
    // A client that says nothing of where it is: one level, two thirds of it serving (health 93 %,
    // no panic), so the serving endpoints share every call by weight: 2 to 1. The draining and the
    // failing ones are not sent (clients would not call them), nor the one in maintenance.
    expect(assignment).toEqual({
      cluster_name: 'web',
      endpoints: [
        {
          locality: { zone: 'eu-1a', sub_zone: '10.0.0.1:80' },
          lb_endpoints: [endpoint('10.0.0.1', 80, 'HEALTHY', 200)],
          load_balancing_weight: { value: 666_667 },
        },
        {
          locality: { sub_zone: '[::1]:80' },
          lb_endpoints: [endpoint('::1', 80, 'HEALTHY', 100)],
          load_balancing_weight: { value: 333_333 },
        },
      ],
    });
    expect(logs.filter((line) => line.includes('xDS leaves out'))).toEqual([
      expect.stringContaining('endpoint "web.internal:80" of service "web": not IP:port'),
    ]);
  });

  it('reads locality names others wrote that are not printable or too long as none, with one log line', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    await etcd.raw
      .put(`${prefix}services/web/10.0.0.1:80`)
      .value(JSON.stringify({ zone: `\ud800${'z'.repeat(5000)}`, region: 'eu\u0000' }));
    const xds = await serve(registry);
    const stream = ads(xds.port);
    stream.send({ type_url: TYPE.endpoints, resource_names: ['web'] });
    const [assignment] = (await stream.next()).resources as [
      { endpoints: [{ locality: Record<string, string> }] },
    ];
    expect(assignment.endpoints[0].locality).toEqual({ sub_zone: '10.0.0.1:80' });
    expect(logs.filter((line) => line.includes('as naming no locality'))).toHaveLength(1);
  });

  it("sends each client the spread of its own locality: zone-aware from its node.cluster's callers, its zone first without them", async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const put = (service: string, address: string, zone: string) =>
      etcd.raw.put(`${prefix}services/${service}/${address}`).value(JSON.stringify({ zone }));
    await put('api', '10.0.0.1:80', 'a');
    await Promise.all(
      ['10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'].map((address) => put('api', address, 'b')),
    );
    await put('web', '10.0.1.1:80', 'a');
    await put('web', '10.0.1.2:80', 'b');
    const xds = await serve(registry, { locality: { minClusterSize: 4 } });
    const weightsFor = async (node: object): Promise<Record<string, number>> => {
      const stream = ads(xds.port);
      stream.send({ type_url: TYPE.endpoints, resource_names: ['api'], node });
      const [assignment] = (await stream.next()).resources as [
        {
          endpoints: {
            locality: { sub_zone: string };
            load_balancing_weight: { value: number };
          }[];
        },
      ];
      return Object.fromEntries(
        assignment.endpoints.map((one) => [one.locality.sub_zone, one.load_balancing_weight.value]),
      );
    };
    // Zone a: 25 % of api, 50 % of web's callers: it keeps half of a's calls, b takes the rest.
    expect(await weightsFor({ id: 'x', cluster: 'web', locality: { zone: 'a' } })).toEqual({
      '10.0.0.1:80': 500_000,
      '10.0.0.2:80': 166_667,
      '10.0.0.3:80': 166_667,
      '10.0.0.4:80': 166_667,
    });
    // Zone b has room: every call stays in it.
    expect(await weightsFor({ id: 'y', cluster: 'web', locality: { zone: 'b' } })).toEqual({
      '10.0.0.2:80': 333_333,
      '10.0.0.3:80': 333_333,
      '10.0.0.4:80': 333_333,
    });
    // Without its callers, zone a is priority 0 and fully healthy: it keeps every call.
    expect(await weightsFor({ id: 'z', locality: { zone: 'a' } })).toEqual({
      '10.0.0.1:80': 1_000_000,
    });
  });

  it('refuses locality settings that are not numbers in range, naming the option', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    await expect(serve(registry, { locality: { overprovisioningFactor: 0 } })).rejects.toThrow(
      'Invalid locality.overprovisioningFactor 0: expected a number from 1 to 10',
    );
  });

  it('sends one response per round trip, the latest; a NACK is logged and counted, never resent', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    const put = (address: string) => etcd.raw.put(`${prefix}services/web/${address}`).value('');
    await put('10.0.0.1:80');
    const xds = await serve(registry, { coalesceMs: 0 });
    const stream = ads(xds.port);
    stream.send({ type_url: TYPE.endpoints, resource_names: ['web'] });
    const first = await stream.next();
    const addresses = (response: { resources: Record<string, unknown>[] }): string[] =>
      // The socket addresses (each locality's sub_zone names its endpoint too, with the port).
      JSON.stringify(response.resources).match(/10\.0\.0\.\d+(?=")/g) ?? [];
    expect(addresses(first)).toEqual(['10.0.0.1']);

    // Not acknowledged: changes wait, however many.
    for (const n of [2, 3, 4, 5]) {
      await put(`10.0.0.${n}:80`);
    }
    await eventually(async () => (await registry.endpoints('web')).length === 5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.responses).toHaveLength(1);

    stream.send({
      type_url: TYPE.endpoints,
      resource_names: ['web'],
      response_nonce: first.nonce,
      version_info: first.version_info,
    });
    const latest = await stream.next();
    expect(addresses(latest)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']);
    // A version after the first: the catalog's, which also counted the sets that were never sent.
    expect(Number(latest.version_info)).toBeGreaterThan(Number(first.version_info));

    // Rejected: logged, counted, and not sent again.
    stream.send({
      type_url: TYPE.endpoints,
      resource_names: ['web'],
      response_nonce: latest.nonce,
      version_info: first.version_info,
      error_detail: { code: 3, message: 'bad\u001b[31m endpoint' },
    });
    await eventually(() => xds.stats().nacks === 1);
    expect(logs).toContainEqual(
      expect.stringContaining(
        'xDS client "" rejected type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment version 1: bad\\u001b[31m endpoint',
      ),
    );
    // A stale nonce is ignored.
    stream.send({ type_url: TYPE.endpoints, resource_names: ['web'], response_nonce: 'bogus' });
    await eventually(() => xds.stats().stale === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.responses).toHaveLength(2);

    // The next change is sent.
    await etcd.raw.delete().key(`${prefix}services/web/10.0.0.1:80`);
    expect(addresses(await stream.next())).toEqual([
      '10.0.0.2',
      '10.0.0.3',
      '10.0.0.4',
      '10.0.0.5',
    ]);
    expect(xds.stats()).toMatchObject({ streams: 1, responses: 3, acks: 1, nacks: 1 });
  });

  it('pushes nothing for writes that change no resource: a key written again, another service', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const put = (service: string, address: string) =>
      etcd.raw.put(`${prefix}services/${service}/${address}`).value('{"zone":"a"}');
    await put('web', '10.0.0.1:80');
    const xds = await serve(registry, { coalesceMs: 0 });
    const stream = ads(xds.port);
    stream.send({ type_url: TYPE.endpoints, resource_names: ['web'] });
    const first = await stream.next();
    stream.send({
      type_url: TYPE.endpoints,
      resource_names: ['web'],
      response_nonce: first.nonce,
      version_info: first.version_info,
    });
    for (let i = 0; i < 5; i += 1) {
      await put('web', '10.0.0.1:80'); // the same value: etcd sends an event, nothing changed
      await put('other', `10.0.1.${i}:80`);
    }
    await put('web', '10.0.0.2:80');
    const next = await stream.next();
    expect(Number(next.version_info)).toBeGreaterThan(Number(first.version_info));
    expect(JSON.stringify(next.resources)).toContain('10.0.0.2');
    expect(xds.stats()).toMatchObject({ responses: 2 });
  });

  it('serves versioned snapshots: clients of the same subscription get the same version for the same set', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const put = (service: string) =>
      etcd.raw.put(`${prefix}services/${service}/10.0.0.1:80`).value('');
    await put('web');
    await eventually(async () => (await registry.services()).length === 1);
    const xds = await serve(registry, { coalesceMs: 0 });
    const early = ads(xds.port);
    early.send({ type_url: TYPE.cluster, resource_names: [] }); // every cluster
    const first = await early.next();
    early.send({
      type_url: TYPE.cluster,
      resource_names: [],
      response_nonce: first.nonce,
      version_info: first.version_info,
    });
    await put('api');
    const next = await early.next();
    expect(next.version_info).not.toBe(first.version_info);
    expect(next.resources).toHaveLength(2);
    // A client that comes later is sent the same set under the same version: one snapshot for both,
    // where a version counted per stream would say 1.
    const late = ads(xds.port);
    late.send({ type_url: TYPE.cluster, resource_names: [] });
    const joined = await late.next();
    expect(joined.version_info).toBe(next.version_info);
    expect(joined.resources).toEqual(next.resources);
  });

  it('refuses what it must not serve, clearly, and keeps serving', async () => {
    const { registry, logs } = await connectTest(etcd.endpoints);
    const xds = await serve(registry, { maxStreams: 3, maxResourceNames: 5 });

    const unknown = ads(xds.port);
    unknown.send({
      type_url: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
      resource_names: ['x'],
    });
    expect((await unknown.next()).resources).toEqual([]);
    expect(logs).toContainEqual(expect.stringContaining('which gsr does not serve'));

    const untyped = ads(xds.port);
    untyped.send({ resource_names: ['web'] });
    expect(await untyped.ended).toEqual({
      code: 3,
      details: 'a request without type_url: ADS needs one',
    });

    const flood = ads(xds.port);
    flood.send({ type_url: TYPE.endpoints, resource_names: ['a', 'b', 'c', 'd', 'e', 'f'] });
    expect(await flood.ended).toEqual({
      code: 8,
      details: `a request for 6 resources of ${TYPE.endpoints}; at most 5`,
    });

    const garbage = ads(xds.port);
    garbage.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect((await garbage.ended).code).toBe(13); // INTERNAL: the request could not be read

    const rebound = ads(xds.port, 'rebound.example');
    rebound.send({ type_url: TYPE.listener, resource_names: ['web'] });
    expect(await rebound.ended).toMatchObject({ code: 7 });

    const invalid = ads(xds.port);
    invalid.send({ type_url: TYPE.listener, resource_names: ['a/b', '..'] });
    expect((await invalid.next()).resources).toEqual([]); // no such service: no listener

    unknown.close();
    invalid.close();
    await eventually(() => xds.stats().streams === 0);
    const held = [ads(xds.port), ads(xds.port), ads(xds.port)];
    held.forEach((stream) => stream.send({ type_url: TYPE.listener, resource_names: ['web'] }));
    await Promise.all(held.map((stream) => stream.next()));
    const tooMany = ads(xds.port);
    tooMany.send({ type_url: TYPE.listener, resource_names: ['web'] });
    expect(await tooMany.ended).toEqual({ code: 8, details: '3 xDS streams are open already' });
    expect(xds.stats()).toMatchObject({ streams: 3, unknownTypes: 1, refused: 4 });
  });

  it('releases what its clients subscribed to when they leave, and everything when closed', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { watchGracePeriodMs: 0 });
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    await etcd.raw.put(`${prefix}services/db/10.0.0.2:5432`).value('');
    const xds = await serve(registry);
    const one = ads(xds.port);
    const two = ads(xds.port);
    for (const stream of [one, two]) {
      stream.send({ type_url: TYPE.endpoints, resource_names: ['web', 'db'] });
      await stream.next();
    }
    expect(xds.stats()).toMatchObject({ streams: 2, services: 2 });
    one.close();
    await eventually(() => xds.stats().streams === 1);
    expect(xds.stats().services).toBe(2);
    two.close();
    await eventually(() => xds.stats().streams === 0 && xds.stats().services === 0);

    const three = ads(xds.port);
    three.send({ type_url: TYPE.endpoints, resource_names: ['web'] });
    await three.next();
    await xds.close();
    expect((await three.ended).code).not.toBe(0);
    expect(xds.stats()).toMatchObject({ streams: 0, services: 0 });
  });
});

describe('createXdsServer, under a greedy client', () => {
  const etcd = useEtcd();

  /** Writes one endpoint for each of `services`, 128 at a time. */
  async function registerEach(prefix: string, services: readonly string[]): Promise<void> {
    for (let i = 0; i < services.length; i += 128) {
      await Promise.all(
        services
          .slice(i, i + 128)
          .map((service, j) =>
            etcd.raw
              .put(`${prefix}services/${service}/10.1.${(i + j) >> 8}.${(i + j) & 255}:80`)
              .value(''),
          ),
      );
    }
  }

  it('answers names no service has at once and follows nothing for them, until one registers', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    const xds = await serve(registry, { coalesceMs: 0 });
    const greedy = ads(xds.port);
    const names = Array.from({ length: 10_000 }, (_, i) => `nosuch-${i}`);
    greedy.send({ type_url: TYPE.endpoints, resource_names: names });
    const first = await greedy.next();
    expect(first.resources).toHaveLength(10_000);
    const named = (resources: Record<string, unknown>[], name: string) =>
      resources.find((resource) => resource.cluster_name === name);
    expect(named(first.resources, 'nosuch-7')).toEqual({ cluster_name: 'nosuch-7' });
    expect(xds.stats().services).toBe(0); // not one service's endpoints followed

    greedy.send({
      type_url: TYPE.endpoints,
      resource_names: names,
      response_nonce: first.nonce,
      version_info: first.version_info,
    });
    await etcd.raw.put(`${prefix}services/nosuch-7/10.0.0.7:80`).value('');
    const next = await greedy.next();
    expect(JSON.stringify(named(next.resources, 'nosuch-7'))).toContain('10.0.0.7');
    expect(xds.stats().services).toBe(1);
  });

  it("reads one client's thousands of services a few at a time: another client's first answer comes first", async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    const services = Array.from({ length: 2000 }, (_, i) => `svc-${i}`);
    await registerEach(prefix, [...services, 'bystander']);
    const xds = await serve(registry);
    const greedy = ads(xds.port);
    greedy.send({ type_url: TYPE.endpoints, resource_names: services });
    await eventually(() => xds.stats().services > 0);
    const bystander = ads(xds.port);
    bystander.send({ type_url: TYPE.endpoints, resource_names: ['bystander'] });
    expect(JSON.stringify((await bystander.next()).resources)).toContain(
      '"cluster_name":"bystander"',
    );
    // Still reading its 2,000, a few at a time (all at once, they would all be followed by now).
    expect(greedy.responses).toHaveLength(0);
    expect(xds.stats().services).toBeLessThan(1000);
    const all = await greedy.next(60_000);
    expect(all.resources).toHaveLength(2000);
    expect(all.resources.every((resource) => JSON.stringify(resource).includes('10.1.'))).toBe(
      true,
    );
  });

  it('says what clients reject in a few lines a minute, each NACK counted once', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    const xds = await serve(registry);
    const stream = ads(xds.port);
    let names = ['web'];
    stream.send({ type_url: TYPE.endpoints, resource_names: names });
    for (let i = 0; i < 100; i += 1) {
      const response = await stream.next();
      const nack = {
        type_url: TYPE.endpoints,
        resource_names: names,
        response_nonce: response.nonce,
        version_info: response.version_info,
        error_detail: { code: 3, message: `no ${'!'.repeat(5000)}` },
      };
      stream.send(nack);
      stream.send(nack); // the same answer again: not another NACK
      names = i % 2 === 0 ? ['web', `other-${i}`] : ['web'];
      stream.send({ ...nack, resource_names: names, error_detail: undefined });
    }
    await eventually(() => xds.stats().nacks === 100);
    const said = logs.filter((line) => line.includes('rejected'));
    expect(said.length).toBeGreaterThan(0);
    expect(said.length).toBeLessThanOrEqual(20);
    expect(Math.max(...said.map((line) => line.length))).toBeLessThan(1000);
  });
});

describe('gsr xds', () => {
  const etcd = useEtcd();
  const bin = join(repoRoot, 'dist', 'cli', 'main.js');
  beforeAll(() => {
    requireBuild();
  });

  it('serves xDS on loopback, says where, and stops on SIGINT saying what it served', async () => {
    const prefix = uniquePrefix();
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    let assignment: unknown;
    const run = await runNode([bin, 'xds', '--port', '0'], {
      env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: prefix },
      onStdout: (text, child) => {
        const port = /gsr xds: serving xDS \(ADS, v3\) at 127\.0\.0\.1:(\d+) /.exec(text)?.[1];
        if (port !== undefined) {
          const stream = ads(Number(port));
          stream.send({ type_url: TYPE.endpoints, resource_names: ['web'] });
          void stream
            .next()
            .then((response) => {
              assignment = response.resources[0];
              stream.close();
            })
            .finally(() => child.kill('SIGINT'));
        }
      },
    });
    expect(JSON.stringify(assignment)).toContain('"address":"10.0.0.1","port_value":80');
    expect(run.stdout).toContain('SIGINT: stopping (1 responses sent, 0 rejected)');
    expect(run.code).toBe(0);
  });

  it('exits 2 naming the port when it is taken', async () => {
    const taken = await serve((await connectTest(etcd.endpoints)).registry);
    const run = await runNode([bin, 'xds', '--port', String(taken.port)], {
      env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(',') },
    });
    expect(run.stderr).toContain(
      `Cannot listen on 127.0.0.1:${taken.port}: the port is taken (--port names another)`,
    );
    expect(run.stderr).not.toContain('Invalid');
    expect(run.stderr).not.toContain('No address added'); // grpc-js's own line: it never binds.
    expect(run.code).toBe(2);
  });
});
