import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import type { Subscription } from 'rxjs';
import { ValidationError } from '../../lib/errors/ValidationError';
import { installGrpcResolver } from '../../lib/grpc/installGrpcResolver';
import type { Registry } from '../../lib/registry/Registry';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, nextMatching } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { startWhoAmIServer, type WhoAmIServer, whoAmI } from '../support/whoAmIServer';

const ROUND_ROBIN = { 'grpc.service_config': '{"loadBalancingConfig":[{"round_robin":{}}]}' };

const servers: WhoAmIServer[] = [];
const clients: grpc.Client[] = [];

async function startServer(): Promise<WhoAmIServer> {
  const started = await startWhoAmIServer();
  servers.push(started);
  return started;
}

function client(target: string): grpc.Client {
  const made = new grpc.Client(target, grpc.credentials.createInsecure(), ROUND_ROBIN);
  clients.push(made);
  return made;
}

async function callCounts(on: grpc.Client, calls: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let call = 0; call < calls; call++) {
    const address = await whoAmI(on);
    counts.set(address, (counts.get(address) ?? 0) + 1);
  }
  return counts;
}

function grpcErrorOf(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error as grpc.ServiceError,
  );
}

describe('installGrpcResolver', () => {
  let etcd: EtcdCluster;
  // Servers register through one registry, clients resolve through another, as in real deployments.
  let serving: Registry;
  let resolving: Registry;
  let registrations: Subscription[];

  const watchers = async () =>
    (await etcd.members[0]?.metrics())?.get('etcd_debugging_mvcc_watcher_total') ?? NaN;

  const register = (service: string, address: string): Subscription => {
    const subscription = serving.register({ service, address }).subscribe();
    registrations.push(subscription);
    return subscription;
  };
  const listed = (service: string, count: number) =>
    nextMatching(resolving.endpoints$(service), (list) => list.length === count);

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
  });
  beforeEach(async () => {
    registrations = [];
    const prefix = { keyPrefix: `grpc-${String(Date.now())}/` };
    serving = (await connectTest(etcd.endpoints, prefix)).registry;
    resolving = (await connectTest(etcd.endpoints, prefix)).registry;
  });
  afterEach(async () => {
    for (const made of clients.splice(0)) {
      made.close();
    }
    for (const registration of registrations) {
      registration.unsubscribe();
    }
    await closeTestRegistries();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  afterAll(async () => {
    await etcd.close();
  });

  it('spreads calls over every live endpoint, and follows them as they go and come', async () => {
    const [a, b, c] = await Promise.all([startServer(), startServer(), startServer()]);
    const { target } = installGrpcResolver(resolving, { grpc });
    const leavingA = register('echo', a.address);
    register('echo', b.address);
    await listed('echo', 2);
    const echo = client(target('echo'));

    // Round robin starts on whichever subchannel is ready first; once both are, calls alternate.
    const seen = new Set<string>();
    await eventually(async () => seen.add(await whoAmI(echo)).size === 2, 10_000, 'both reached');
    expect(await callCounts(echo, 20)).toEqual(
      new Map([
        [a.address, 10],
        [b.address, 10],
      ]),
    );

    // A deregistered endpoint stops receiving calls although its server still runs.
    leavingA.unsubscribe();
    await listed('echo', 1);
    await eventually(async () => (await callCounts(echo, 4)).get(b.address) === 4);
    expect(await callCounts(echo, 20)).toEqual(new Map([[b.address, 20]]));

    // One that arrives later is used by the same client.
    register('echo', c.address);
    await eventually(async () => (await callCounts(echo, 4)).has(c.address));
    expect(await callCounts(echo, 20)).toEqual(
      new Map([
        [b.address, 10],
        [c.address, 10],
      ]),
    );
  });

  it('leaves out draining and maintenance endpoints while one serves, and falls back on draining ones', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    const { target } = installGrpcResolver(resolving, { grpc });
    register('echo', a.address);
    const other = (await connectTest(etcd.endpoints, { keyPrefix: serving.config.keyPrefix }))
      .registry;
    registrations.push(other.register({ service: 'echo', address: b.address }).subscribe());
    await listed('echo', 2);
    const echo = client(target('echo'));
    const seen = new Set<string>();
    await eventually(async () => seen.add(await whoAmI(echo)).size === 2, 10_000, 'both reached');

    // b's process drains: only a takes calls.
    await other.drain({ delayMs: 0 });
    await eventually(async () => (await callCounts(echo, 4)).get(a.address) === 4);
    expect(await callCounts(echo, 10)).toEqual(new Map([[a.address, 10]]));

    // An operator takes a out: b, draining, is all that is left, and is used rather than nothing.
    await resolving.setMaintenance('echo', a.address, { reason: 'test' });
    await eventually(async () => (await callCounts(echo, 4)).get(b.address) === 4);
    expect(await callCounts(echo, 10)).toEqual(new Map([[b.address, 10]]));
    await resolving.clearMaintenance('echo', a.address);
  });

  it('fails fast with UNAVAILABLE naming the service while it has no endpoints', async () => {
    const { target } = installGrpcResolver(resolving, { grpc });
    const echo = client(target('nobody-yet'));
    const error = await grpcErrorOf(whoAmI(echo));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toContain('no live endpoints of gsr service "nobody-yet"');

    // A call that waits for readiness goes out as soon as an endpoint is registered.
    const waiting = whoAmI(echo, { waitForReady: true, deadlineMs: 10_000 });
    const server = await startServer();
    const registration = register('nobody-yet', server.address);
    await expect(waiting).resolves.toBe(server.address);

    // And again once the last endpoint is gone, although its server still runs.
    registration.unsubscribe();
    await listed('nobody-yet', 0);
    await eventually(() =>
      whoAmI(echo, { deadlineMs: 1_000 }).then(
        () => false,
        () => true,
      ),
    );
    const last = await grpcErrorOf(whoAmI(echo));
    expect(last.code).toBe(grpc.status.UNAVAILABLE);
    expect(last.details).toContain('no live endpoints of gsr service "nobody-yet"');
  });

  it('skips addresses gRPC cannot dial, with one warning each, and uses the rest', async () => {
    const { registry, logs } = await connectTest(etcd.endpoints, {
      keyPrefix: serving.config.keyPrefix,
    });
    const { target } = installGrpcResolver(registry, { grpc });
    const server = await startServer();
    // Written by someone else (gsr refuses to register an address without a port).
    const writer = new Etcd3({ hosts: etcd.endpoints });
    await writer.put(`${serving.config.keyPrefix}services/mixed/not-a-port`).value('');
    writer.close();
    register('mixed', server.address);
    await listed('mixed', 2);
    const echo = client(target('mixed'));
    expect(await callCounts(echo, 6)).toEqual(new Map([[server.address, 6]]));
    const warnings = logs.filter((line) => line.includes('not-a-port'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('gRPC resolver skips endpoint "not-a-port" of service "mixed"');
  });

  it('watches while a client uses the service, and stops when the client is closed', async () => {
    const { target } = installGrpcResolver(resolving, { grpc });
    const server = await startServer();
    const initial = await watchers();
    register('watched', server.address);
    // The serving registry watches the keys it registered (one watch for the service).
    await eventually(async () => (await watchers()) === initial + 1, 5_000, 'own-key watch');
    const before = await watchers();
    const echo = client(target('watched'));
    await whoAmI(echo, { waitForReady: true });
    // The service's watch, and the resolving registry's one watch of operators' overrides (each
    // created once its first read answered: maybe just after the call).
    await eventually(async () => (await watchers()) === before + 2, 5_000, 'two watches');
    echo.close();
    await eventually(async () => (await watchers()) === before, 5_000, 'watch cancelled');
  });

  it('refuses a target that names no valid service, and a bad scheme', () => {
    installGrpcResolver(resolving, { grpc });
    expect(() => client('gsr:///a/b')).toThrow(ValidationError);
    expect(() => client('gsr://etcd.example/api')).toThrow(
      'Invalid gRPC target "gsr://etcd.example/api": expected no authority',
    );
    expect(() => installGrpcResolver(resolving, { grpc, scheme: 'not a scheme' })).toThrow(
      'Invalid scheme "not a scheme": expected a URI scheme such as "gsr"',
    );
    expect(() => installGrpcResolver(resolving, { grpc }).target('')).toThrow(
      'Invalid service "": expected a non-empty string',
    );
  });

  it('serves a scheme of its own choosing', async () => {
    const resolver = installGrpcResolver(resolving, { grpc, scheme: 'gsr-test' });
    expect(resolver.scheme).toBe('gsr-test');
    expect(resolver.target('svc')).toBe('gsr-test:///svc');
    const server = await startServer();
    register('svc', server.address);
    await expect(whoAmI(client('gsr-test:///svc'), { waitForReady: true })).resolves.toBe(
      server.address,
    );
  });

  it('keeps the endpoints a channel had when its registry is closed; new channels are refused', async () => {
    const { target } = installGrpcResolver(resolving, { grpc });
    const server = await startServer();
    register('closing', server.address);
    const echo = client(target('closing'));
    await whoAmI(echo, { waitForReady: true });

    await resolving.close();
    // As gRPC does on any resolver error: a working channel keeps its last good addresses.
    await expect(whoAmI(echo)).resolves.toBe(server.address);
    const error = await grpcErrorOf(whoAmI(client(target('closing'))));
    expect(error.code).toBe(grpc.status.UNAVAILABLE);
    expect(error.details).toContain('gsr cannot resolve service "closing"');
    expect(error.details).toContain('RegistryClosedError');
  });
});
