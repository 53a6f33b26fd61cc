import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { Registry } from '../../lib/registry/Registry';
import { TcpProxy } from '../../lib/testing/TcpProxy';
import { openAds, TYPE } from '../support/adsClient';
import { closeServers } from '../support/httpServers';
import { requireBuild } from '../support/requireBuild';
import { connectTest, uniquePrefix } from '../support/testRegistries';
import { useEtcd, type EtcdFixture } from '../support/useEtcd';
import { compileSnippets, slugOf, snippetDir } from './compileSnippets';
import { readmeSnippets, type Snippet } from './readmeSnippets';
import { killSnippets, runSnippet, type SnippetProcess } from './snippetProcess';

// Every TypeScript block of the README, type-checked in strict mode as a user's ES module and run as
// printed against a real etcd, each in the world it describes (the services it calls, the keys it
// expects), checking that it does what the text around it says. A snippet without a scenario here fails.

/** gRPC's examples/protos/helloworld.proto, which the gRPC snippets load from their directory. */
const HELLOWORLD_PROTO = `syntax = "proto3";

package helloworld;

service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply) {}
}

message HelloRequest {
  string name = 1;
}

message HelloReply {
  string message = 1;
}
`;

interface Run {
  readonly etcd: EtcdFixture;
  /** The snippet's own key prefix in the test etcd. */
  readonly prefix: string;
  /**
   * Starts the snippet with GSR_ETCD_ENDPOINTS the test etcd (or `endpoints`), its prefix, and the
   * variables its leading comments name.
   */
  start(endpoints?: string): SnippetProcess;
  /** A registry of the rest of the world, on the snippet's etcd, prefix and layout. */
  world(): Promise<Registry>;
}

const started: Array<{ close(): unknown }> = [];

/** Registers `endpoint` until the world's registry closes; resolves once it is live. */
function registered(registry: Registry, endpoint: Endpoint): Promise<void> {
  return new Promise((resolve, reject) => {
    registry.register(endpoint).subscribe({ next: () => resolve(), error: reject });
  });
}

/** Reads `key` until it holds a value (a write the snippet makes while it prints). */
async function written(run: Run, key: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const value = await run.etcd.raw.get(key).string();
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${key} was never written`);
}

/** An HTTP service registered as `service`, answering JSON from `answer(path)`. */
async function httpService(run: Run, service: string, answer: (path: string) => unknown) {
  const server: Server = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(answer(request.url ?? '/')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  started.push({ close: () => server.close() });
  const { port } = server.address() as { port: number };
  const registry = await run.world();
  await registered(registry, { service, address: `127.0.0.1:${port}` });
}

/** A helloworld.Greeter server registered as `service`, answering `Hello <name>, from <service>`. */
async function greeter(run: Run, service: string) {
  const { helloworld } = grpc.loadPackageDefinition(loadSync(join(snippetDir, 'helloworld.proto')));
  const Greeter = (helloworld as grpc.GrpcObject).Greeter as grpc.ServiceClientConstructor;
  const server = new grpc.Server();
  server.addService(Greeter.service, {
    SayHello: (
      call: grpc.ServerUnaryCall<{ name: string }, unknown>,
      callback: grpc.sendUnaryData<{ message: string }>,
    ) => callback(null, { message: `Hello ${call.request.name}, from ${service}` }),
  });
  const port = await promisify(server.bindAsync.bind(server))(
    '127.0.0.1:0',
    grpc.ServerCredentials.createInsecure(),
  );
  started.push({ close: () => server.forceShutdown() });
  const registry = await run.world();
  await registered(registry, { service, address: `127.0.0.1:${port}` });
}

/** GETs `url` with `host` as the Host header, until it answers (a server that is still starting). */
async function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await new Promise((resolve, reject) => {
        // node:http rather than fetch, which drops a Host header it is given.
        request(url, { headers: host === undefined ? {} : { host } }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        })
          .on('error', reject)
          .end();
      });
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Polls `url` until its body matches every pattern. */
async function scrape(url: string, patterns: readonly RegExp[]): Promise<string> {
  let body = '';
  for (let attempt = 0; attempt < 100; attempt += 1) {
    body = (await get(url)).body;
    if (patterns.every((pattern) => pattern.test(body))) return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} never matched ${patterns.join(', ')}:\n${body}`);
}

/** It handles SIGTERM itself and exits 0; or it has no handler, and SIGTERM ends it. */
async function terminate(snippet: SnippetProcess, handlesSigterm = false): Promise<void> {
  snippet.signal('SIGTERM');
  const exit = await snippet.exit();
  expect(exit).toEqual(
    handlesSigterm ? { code: 0, signal: null } : { code: null, signal: 'SIGTERM' },
  );
}

async function exitsCleanly(snippet: SnippetProcess): Promise<void> {
  expect(await snippet.exit()).toEqual({ code: 0, signal: null });
  expect(snippet.stderr).toBe('');
}

const scenarios: Record<string, (run: Run) => Promise<void>> = {
  'Using gsr #1': async (run) => {
    await httpService(run, 'data-access', (path) =>
      path === '/users/7' ? { id: 7, name: 'Ada' } : { error: path },
    );
    const snippet = run.start();
    await snippet.printed(/\{ id: 7, name: 'Ada' \}\n/);
    await snippet.printed(
      new RegExp(`registered ${run.prefix}services/web/10\\.0\\.0\\.7:8080\\n`),
    );
    expect(await run.etcd.raw.get(`${run.prefix}services/web/10.0.0.7:8080`).string()).toBe(
      '{"zone":"a"}',
    );
    // The shutdown it shows: deregistered (etcd confirmed it) before it exits 0.
    await terminate(snippet, true);
    expect(await run.etcd.raw.get(`${run.prefix}services/web/10.0.0.7:8080`).string()).toBeNull();
    expect(snippet.stderr).toBe('');
  },

  'Without RxJS #1': async (run) => {
    const world = await run.world();
    await registered(world, { service: 'data-access', address: '10.0.0.1:80' });
    const snippet = run.start();
    await snippet.printed(/^data-access: 10\.0\.0\.1:80\n/);
    // Each change is a turn of the loop; two endpoints end it, and closing ends the process.
    await registered(world, { service: 'data-access', address: '10.0.0.2:80' });
    await snippet.printed(/\ndata-access: 10\.0\.0\.1:80, 10\.0\.0\.2:80\n$/);
    await exitsCleanly(snippet);
  },

  'Connecting #1': async (run) => {
    const proxy = await TcpProxy.start(run.etcd.endpoints[0] ?? '');
    started.push({ close: () => proxy.close() });
    const snippet = run.start(proxy.url);
    await snippet.printed(/^etcd answers\n/);
    proxy.cut();
    await snippet.printed(/\netcd unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z\n/);
    await proxy.heal();
    await snippet.printed(/unreachable since .*\netcd answers\n$/);
    // Losing etcd and getting it back are warnings at the default log level.
    expect(snippet.stderr).toMatch(/warn.*etcd/i);
    await terminate(snippet);
  },

  'Lifecycle: deploys without a failed call #1': async (run) => {
    const world = await run.world();
    await registered(world, { service: 'database', address: '10.0.0.9:5432' });
    const snippet = run.start();
    const key = new RegExp(`${run.prefix}services/hello/127\\.0\\.0\\.1:(\\d+)`);
    await snippet.printed(new RegExp(`${key.source} is serving\\n`));
    const [hello] = key.exec(snippet.stdout) ?? [''];
    expect(await run.etcd.raw.get(hello).string()).toBe('');
    expect(await (await fetch(`http://${hello.split('/').pop() ?? ''}/`)).text()).toBe('hello\n');
    // Its database gone: failing after two failed checks; back: serving after two passes.
    await world.unregister({ service: 'database', address: '10.0.0.9:5432' });
    await snippet.printed(/ is failing\n$/);
    expect(await run.etcd.raw.get(hello).string()).toBe('{"gsr.state":"failing"}');
    await registered(world, { service: 'database', address: '10.0.0.9:5432' });
    await snippet.printed(/ is failing\n.* is serving\n$/);
    // SIGTERM: listed draining before the key goes; then it exits by itself, 0.
    snippet.signal('SIGTERM');
    await snippet.printed(/ is draining\n$/);
    expect(await run.etcd.raw.get(hello).string()).toBe('{"gsr.state":"draining"}');
    expect(await snippet.exit()).toEqual({ code: 0, signal: null });
    // Each change of its health is a warning, and nothing else is.
    expect(
      snippet.stderr
        .trim()
        .split('\n')
        .map((line) => /warn gsr: \S+ (\w+)/.exec(line)?.[1]),
    ).toEqual(['fails', 'passes']);
    expect(await run.etcd.raw.get(hello).string()).toBeNull();
  },

  'Load balancing #1': async (run) => {
    await httpService(run, 'pricing', (path) => ({
      id: Number(path.split('/').pop()),
      price: 9.5,
    }));
    const snippet = run.start();
    await snippet.printed(/^\{ id: 42, price: 9\.5 \}\n$/);
    await exitsCleanly(snippet);
  },

  'Load balancing #2': async (run) => {
    await httpService(run, 'pricing', (path) => ({
      id: Number(path.split('/').pop()),
      price: 9.5,
    }));
    const snippet = run.start();
    await exitsCleanly(snippet);
    expect(snippet.stdout.trim().split('\n').sort()).toEqual([
      '{ id: 1, price: 9.5 }',
      '{ id: 2, price: 9.5 }',
      '{ id: 3, price: 9.5 }',
    ]);
  },

  'Load reports #1': async (run) => {
    const snippet = run.start();
    // The server's own response, found by name through etcd, with its load report on it.
    await snippet.printed(/^quoted true\n$/);
    await exitsCleanly(snippet);
  },

  'fetch by service name #1': async (run) => {
    await httpService(run, 'data-access', (path) => ({ path }));
    const snippet = run.start();
    await snippet.printed(/^200\n$/);
    await exitsCleanly(snippet);
  },

  'Zones and priorities #1': async (run) => {
    // api: 2 instances in eu-1a, 4 in eu-1b; this web is the only caller, in eu-1a.
    for (const [address, zone] of [
      ['10.0.1.1:80', 'eu-1a'],
      ['10.0.1.2:80', 'eu-1a'],
      ['10.0.2.1:80', 'eu-1b'],
      ['10.0.2.2:80', 'eu-1b'],
      ['10.0.2.3:80', 'eu-1b'],
      ['10.0.2.4:80', 'eu-1b'],
    ]) {
      await run.etcd.raw
        .put(`${run.prefix}services/api/${address}`)
        .value(JSON.stringify({ zone }));
    }
    const snippet = run.start();
    // eu-1a has a third of api and all of its callers: it keeps a third of the calls, by zone-aware
    // routing (or by weight before the callers' list arrives: the same shares here).
    await snippet.printed(/^\[ 100 \] \[ 'eu-1a: 0\.33', 'eu-1b: 0\.67' \]\n$/);
    await exitsCleanly(snippet);
  },

  'gRPC #1': async (run) => {
    await greeter(run, 'greeter');
    const snippet = run.start();
    await snippet.printed(/^Hello gsr, from greeter\n$/);
    await exitsCleanly(snippet);
  },

  'Go interop #1': async (run) => {
    // What the Go gsr writes: the key, an empty value.
    await run.etcd.raw.put(`${run.prefix}services/web/10.0.0.7:8080`).value('');
    const snippet = run.start();
    await snippet.printed(/^\[ '10\.0\.0\.7:8080' \]\n/);
    expect(await written(run, `${run.prefix}services/data-access/10.0.0.8:10000`)).toBe('');
    await terminate(snippet);
  },

  'Go interop #2': async (run) => {
    await greeter(run, 'demo/greeter');
    const snippet = run.start();
    await snippet.printed(/^Hello Node, from demo\/greeter\n$/);
    expect(JSON.parse(await written(run, `${run.prefix}demo/greeter/10.0.0.8:50051`))).toEqual({
      Op: 0,
      Addr: '10.0.0.8:50051',
      Metadata: null,
    });
    await terminate(snippet);
  },

  'Beyond Node: Prometheus and xDS #1': async (run) => {
    const world = await run.world();
    await registered(world, {
      service: 'greeter',
      address: '10.0.0.5:50051',
      metadata: { zone: 'a' },
    });
    const snippet = run.start();
    await snippet.printed(/^targets on http:\/\/127\.0\.0\.1:7701\/, xDS on port 18000\n/);
    const targets = await get('http://127.0.0.1:7701/');
    expect(JSON.parse(targets.body)).toEqual([
      {
        targets: ['10.0.0.5:50051'],
        labels: {
          __meta_gsr_service: 'greeter',
          __meta_gsr_state: 'serving',
          __meta_gsr_metadata_zone: 'a',
        },
      },
    ]);
    const stream = openAds(18000);
    started.push(stream);
    stream.send({ type_url: TYPE.endpoints, resource_names: ['greeter'] });
    expect((await stream.next()).resources).toMatchObject([
      {
        cluster_name: 'greeter',
        endpoints: [{ locality: { zone: 'a' }, lb_endpoints: [{ health_status: 'HEALTHY' }] }],
      },
    ]);
    stream.close();
    await terminate(snippet);
    expect(snippet.stderr).toBe('');
  },

  'Dashboard #1': async (run) => {
    const snippet = run.start();
    const page = await get('http://127.0.0.1:7700/', '127.0.0.1:7700');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<title>[^<]*gsr/);
    expect((await get('http://127.0.0.1:7700/', 'gateway.internal')).status).toBe(200);
    expect((await get('http://127.0.0.1:7700/', 'attacker.example')).status).toBe(421);
    await terminate(snippet);
    expect(snippet.stderr).toBe('');
  },

  'Metrics #1': async (run) => {
    const snippet = run.start();
    await scrape('http://127.0.0.1:9464/metrics', [
      /^gsr_registration_live\{[^}]*\} 1$/m,
      /^gsr_etcd_health\{[^}]*\} 1$/m,
      /^gsr_lease_losses_total\{[^}]*\} 0$/m,
      /^gsr_etcd_request_duration_seconds_count\{[^}]*gsr_etcd_operation="LeaseGrant"[^}]*\} 1$/m,
    ]);
    // The gauge counts a registration from its subscription; its key comes with etcd's answer.
    expect(await written(run, `${run.prefix}services/web/10.0.0.7:8080`)).toBe('');
    await terminate(snippet);
    expect(snippet.stderr).toBe('');
  },

  'Testing your own services against a real etcd #1': async (run) => {
    const snippet = run.start();
    expect(await snippet.exit(60_000)).toEqual({ code: 0, signal: null });
    expect(snippet.stderr).toBe('');
  },
};

describe('README', () => {
  const etcd = useEtcd();
  const snippets = readmeSnippets();

  beforeAll(() => {
    requireBuild();
    const errors = compileSnippets(snippets);
    writeFileSync(join(snippetDir, 'helloworld.proto'), HELLOWORLD_PROTO);
    expect(errors).toEqual([]);
  }, 120_000);

  afterEach(async () => {
    killSnippets();
    await Promise.all(started.splice(0).map((item) => Promise.resolve(item.close())));
    await closeServers();
  });

  it('has a scenario for every TypeScript snippet, and a snippet for every scenario', () => {
    expect(snippets.map((snippet) => snippet.name).sort()).toEqual(Object.keys(scenarios).sort());
  });

  it.each(snippets.map((snippet): [string, Snippet] => [snippet.name, snippet]))(
    'runs the snippet of "%s" as printed',
    async (_name, snippet) => {
      const scenario = scenarios[snippet.name];
      if (scenario === undefined) {
        throw new Error(`${snippet.file}:${snippet.line}: no scenario for "${snippet.name}"`);
      }
      const prefix = uniquePrefix();
      const layout = snippet.env.GSR_KEY_LAYOUT;
      let world: Registry | undefined;
      await scenario({
        etcd,
        prefix,
        start: (endpoints = etcd.endpoints.join(',')) =>
          runSnippet(snippetDir, slugOf(snippet), {
            ...snippet.env,
            GSR_ETCD_ENDPOINTS: endpoints,
            GSR_KEY_PREFIX: prefix,
          }),
        world: async () => {
          world ??= (
            await connectTest(etcd.endpoints, {
              keyPrefix: prefix,
              ...(layout === 'etcd-naming' && { keyLayout: 'etcd-naming' }),
            })
          ).registry;
          return world;
        },
      });
    },
    90_000,
  );
});
