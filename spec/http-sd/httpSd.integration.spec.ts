import { Etcd3 } from 'etcd3';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { enableEtcdAuth } from '../support/etcdAuth';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { ValidationError } from '../../lib/errors/ValidationError';
import {
  createHttpSdHandler,
  type HttpSdHandler,
  type HttpSdOptions,
} from '../../lib/http-sd/createHttpSdHandler';
import type { TargetGroup } from '../../lib/http-sd/targetGroups';
import type { Registry } from '../../lib/registry/Registry';
import { eventually } from '../support/observe';
import { requireBuild } from '../support/requireBuild';
import { repoRoot, runNode } from '../support/runNode';
import { startPrometheus, type TestPrometheus } from '../support/prometheus';
import { connectTest, uniquePrefix } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const servers: Server[] = [];
const handlers: HttpSdHandler[] = [];
const subscriptions: Subscription[] = [];
afterEach(() => {
  subscriptions.splice(0).forEach((subscription) => subscription.unsubscribe());
  handlers.splice(0).forEach((handler) => handler.close());
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** Serves `handler` on a free loopback port; returns its URL. */
/** The first answer of `url` that is a 200, as JSON: what a running http-sd serves once it can. */
async function firstServed(url: string, what: string): Promise<unknown> {
  let served: unknown;
  await eventually(
    async () => {
      const response = await fetch(url).catch(() => undefined);
      if (response?.status !== 200) return false;
      served = await response.json();
      return true;
    },
    30_000,
    what,
  );
  return served;
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler).listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function serve(registry: Registry, options?: HttpSdOptions): Promise<string> {
  const handler = createHttpSdHandler(registry, options);
  handlers.push(handler);
  return listen(handler);
}

/** An instance Prometheus can scrape: a `/metrics` of one gauge. */
async function instance(): Promise<string> {
  const url = await listen((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    response.end('gsr_test_up 1\n');
  });
  return new URL(url).host;
}

/**
 * The status of a GET with this Host header (fetch will not send one of its own), of `path` when given
 * (a request target as it is, which fetch would normalise).
 */
function statusWithHost(url: string, host: string, path?: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { host }, ...(path !== undefined && { path }) }, (response) => {
      response.resume();
      resolve(response.statusCode);
    })
      .on('error', reject)
      .end();
  });
}

/** The status of a GET of `/` sent with these Host lines, as they are (Node's client sends one). */
function rawStatus(url: string, hosts: readonly string[]): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(Number(port), hostname, () =>
      socket.write(
        `GET / HTTP/1.1\r\n${hosts.map((host) => `Host: ${host}\r\n`).join('')}Connection: close\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(received)?.[1])));
  });
}

const groupsOf = async (url: string): Promise<TargetGroup[]> =>
  (await (await fetch(url)).json()) as TargetGroup[];

describe('Prometheus HTTP service discovery, with a real Prometheus', () => {
  const etcd = useEtcd();
  let prometheus: TestPrometheus | undefined;
  afterEach(async () => {
    await prometheus?.close();
    prometheus = undefined;
  });

  it('lists registered instances with their labels, scrapes them, and drops departed ones', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const [a, b] = [await instance(), await instance()];
    subscriptions.push(
      registry.register({ service: 'web', address: a, metadata: { zone: 'eu-1a' } }).subscribe(),
    );
    const leaving = registry
      .register({ service: 'web', address: b, metadata: { zone: 'eu-1b' } })
      .subscribe();
    subscriptions.push(leaving);
    prometheus = await startPrometheus(await serve(registry));
    const targets = prometheus.targets.bind(prometheus);

    await eventually(
      async () => (await targets()).filter((target) => target.health === 'up').length === 2,
      20_000,
      'both instances scraped',
    );
    expect(
      (await targets())
        .map(({ labels, discoveredLabels }) => ({
          instance: labels.instance,
          service: labels.service,
          zone: labels.zone,
          state: discoveredLabels.__meta_gsr_state,
          metadata: discoveredLabels.__meta_gsr_metadata_zone,
        }))
        .sort((x, y) => (x.zone ?? '').localeCompare(y.zone ?? '')),
    ).toEqual([
      { instance: a, service: 'web', zone: 'eu-1a', state: 'serving', metadata: 'eu-1a' },
      { instance: b, service: 'web', zone: 'eu-1b', state: 'serving', metadata: 'eu-1b' },
    ]);

    leaving.unsubscribe(); // deregisters: its key is deleted
    await eventually(
      async () => (await targets()).map((target) => target.labels.instance).join() === a,
      20_000,
      'the departed instance dropped',
    );

    // An operator's maintenance reaches Prometheus as a state the scrape config can act on.
    await registry.setMaintenance('web', a, { reason: 'disk' });
    await eventually(
      async () => (await targets()).length === 0,
      20_000,
      'the instance in maintenance dropped by relabelling',
    );
  });
});

describe('createHttpSdHandler', () => {
  const etcd = useEtcd();
  const metric = async (name: string): Promise<number> =>
    (await etcd.members[0]?.metrics())?.get(name) ?? NaN;

  it('serves every service, or those asked for, from its live lists: no etcd request per scrape', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('{"zone":"a"}');
    await etcd.raw.put(`${prefix}services/db/10.0.1.1:5432`).value('');
    const url = await serve(registry);
    expect(await groupsOf(url)).toEqual([
      {
        targets: ['10.0.1.1:5432'],
        labels: { __meta_gsr_service: 'db', __meta_gsr_state: 'serving' },
      },
      {
        targets: ['10.0.0.1:80'],
        labels: {
          __meta_gsr_service: 'web',
          __meta_gsr_state: 'serving',
          __meta_gsr_metadata_zone: 'a',
        },
      },
    ]);
    expect((await groupsOf(`${url}?service=db`)).map((group) => group.targets)).toEqual([
      ['10.0.1.1:5432'],
    ]);
    expect((await groupsOf(`${url}?service=db&service=web`)).map((group) => group.targets)).toEqual(
      [['10.0.1.1:5432'], ['10.0.0.1:80']],
    );
    expect(await groupsOf(`${url}?service=none`)).toEqual([]);

    const ranges = await metric('etcd_mvcc_range_total');
    for (let i = 0; i < 20; i += 1) {
      expect((await fetch(url)).status).toBe(200);
    }
    expect(await metric('etcd_mvcc_range_total')).toBe(ranges);

    await etcd.raw.put(`${prefix}services/web/10.0.0.2:80`).value('{"zone":"a"}');
    await eventually(async () => (await groupsOf(url))[1]?.targets.length === 2);
    await etcd.raw.delete().key(`${prefix}services/db/10.0.1.1:5432`);
    await eventually(async () => (await groupsOf(url)).length === 1);
  });

  it('tags each answer, answers 304 to a tag that still holds, and a new tag once anything changed', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    const url = await serve(registry);
    const first = await fetch(url);
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await fetch(url, { headers: { 'If-None-Match': `"other", W/${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const one = await fetch(`${url}?service=web`);
    const oneTag = one.headers.get('etag') ?? '';
    expect(
      (await fetch(`${url}?service=web`, { headers: { 'If-None-Match': oneTag } })).status,
    ).toBe(304);

    await etcd.raw.put(`${prefix}services/web/10.0.0.2:80`).value('');
    await eventually(
      async () => (await fetch(url, { headers: { 'If-None-Match': etag } })).status === 200,
    );
    const changed = await fetch(`${url}?service=web`, { headers: { 'If-None-Match': oneTag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(oneTag);
    // Another service's change leaves this one's tag as it was.
    const now = changed.headers.get('etag') ?? '';
    await etcd.raw.put(`${prefix}services/db/10.0.1.1:5432`).value('');
    await eventually(async () => (await groupsOf(url)).length === 2);
    expect((await fetch(`${url}?service=web`, { headers: { 'If-None-Match': now } })).status).toBe(
      304,
    );

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('answers what it will not serve with a clear status, and keeps serving', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const url = await serve(registry, { services: ['web'] });
    const answer = async (target: string, init?: RequestInit) => {
      const response = await fetch(new URL(target, url), init);
      return `${response.status} ${(await response.text()).trim()}`;
    };
    expect(await answer('/?service=db')).toBe('404 service "db" is not served here');
    expect(await answer('/?service=a%2Fb')).toMatch(
      /^400 Invalid service "a\/b": must not contain/,
    );
    expect(await answer('/?services=web')).toBe(
      '400 unknown parameter "services"; expected service=<name>',
    );
    expect(await answer('/targets')).toBe('404 not found; targets are served at /');
    expect(await answer('/', { method: 'POST' })).toBe('405 service discovery is read-only');
    expect(await statusWithHost(url, 'rebound.example')).toBe(421);
    expect(await statusWithHost(url, 'localhost')).toBe(200);
    expect(await statusWithHost(url, 'localhost', '*')).toBe(400);
    expect(await statusWithHost(url, 'localhost', 'http://x:99999/')).toBe(400);
    // RFC 9112: an absolute-form target names the host, whatever Host says.
    expect(await statusWithHost(url, 'localhost', 'http://rebound.example/')).toBe(421);
    expect(await statusWithHost(url, 'rebound.example', new URL('/', url).href)).toBe(200);
    expect(await rawStatus(url, ['localhost', 'rebound.example'])).toBe(400);
    expect(await answer('/')).toBe('200 []');
    expect(() => createHttpSdHandler(registry, { services: ['a/b'] })).toThrow(ValidationError);
    expect(() => createHttpSdHandler(registry, { allowedHosts: ['a b'] })).toThrow(/allowedHosts/);
  });

  it('skips what others wrote that Prometheus cannot use, with one log line each', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/not-an-address`).value('');
    await etcd.raw
      .put(`${prefix}services/web/10.0.0.1:80`)
      .value(JSON.stringify({ 'x\u0000y': 'a\u001b[31m', deep: { '</script>': '\ud800' } }));
    const url = await serve(registry);
    const [group] = await groupsOf(url);
    expect(group).toEqual({
      targets: ['10.0.0.1:80'],
      labels: {
        __meta_gsr_service: 'web',
        __meta_gsr_state: 'serving',
        __meta_gsr_metadata_deep___script_: '\ufffd',
        __meta_gsr_metadata_x_y: 'a\u001b[31m',
      },
    });
    await groupsOf(url);
    expect(logs.filter((line) => line.includes('http-sd skips'))).toEqual([
      expect.stringContaining('endpoint "not-an-address" of service "web"'),
    ]);
  });

  it('answers 503 once closed, having released what it followed', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { watchGracePeriodMs: 0 });
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    const watchers = () => metric('etcd_debugging_mvcc_watcher_total');
    const before = await watchers();
    const handler = createHttpSdHandler(registry);
    const url = await listen(handler);
    expect((await fetch(url)).status).toBe(200);
    // Created after the first lists (from their revision): etcd may count them a moment later.
    await eventually(async () => (await watchers()) > before, 5000, 'the watches');
    handler.close();
    const closed = await fetch(url);
    expect(closed.status).toBe(503);
    expect(closed.headers.get('retry-after')).toBe('5');
    await eventually(async () => (await watchers()) === before, 10_000, 'watches released');
  });
});

describe('gsr http-sd', () => {
  const etcd = useEtcd();
  const bin = join(repoRoot, 'dist', 'cli', 'main.js');
  beforeAll(() => {
    requireBuild();
  });

  it('serves the targets on loopback, prints its URL, and stops on SIGINT', async () => {
    const prefix = uniquePrefix();
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('{"zone":"a"}');
    let served: unknown;
    const run = await runNode([bin, 'http-sd', '--port', '0'], {
      env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: prefix },
      onStdout: (text, child) => {
        const url = /gsr http-sd: serving Prometheus' HTTP service discovery at (\S+) /.exec(
          text,
        )?.[1];
        if (url !== undefined) {
          void eventually(async () => {
            const response = await fetch(url).catch(() => undefined);
            if (response?.status !== 200) return false;
            served = await response.json();
            return true;
          }).finally(() => child.kill('SIGINT'));
        }
      },
    });
    expect(served).toEqual([
      {
        targets: ['10.0.0.1:80'],
        labels: {
          __meta_gsr_service: 'web',
          __meta_gsr_state: 'serving',
          __meta_gsr_metadata_zone: 'a',
        },
      },
    ]);
    expect(run.stdout).toContain('SIGINT: stopping');
    expect(run.code).toBe(0);
  });

  it('starts while etcd is down, answers 503 meanwhile, and serves once etcd answers', async () => {
    const own = await EtcdCluster.start();
    const member = own.members[0];
    try {
      const prefix = uniquePrefix();
      const client = new Etcd3({ hosts: own.endpoints });
      await client.put(`${prefix}services/web/10.0.0.1:80`).value('');
      client.close();
      await member?.stop();
      const statuses: number[] = [];
      let served: unknown;
      const run = await runNode([bin, 'http-sd', '--port', '0'], {
        env: { GSR_ETCD_ENDPOINTS: own.endpoints.join(','), GSR_KEY_PREFIX: prefix },
        timeoutMs: 60_000,
        onStdout: (text, child) => {
          const url = /serving Prometheus' HTTP service discovery at (\S+) /.exec(text)?.[1];
          if (url === undefined) {
            return;
          }
          void (async () => {
            statuses.push((await fetch(url)).status);
            // Past the CLI's 5 s connect timeout, after which it used to exit 1.
            await new Promise((resolve) => setTimeout(resolve, 6000));
            statuses.push((await fetch(url)).status);
            await member?.start();
            served = await firstServed(url, 'served once etcd is back');
          })().finally(() => child.kill('SIGINT'));
        },
      });
      expect(new Set(statuses)).toEqual(new Set([503]));
      expect(served).toEqual([
        {
          targets: ['10.0.0.1:80'],
          labels: { __meta_gsr_service: 'web', __meta_gsr_state: 'serving' },
        },
      ]);
      expect(run.stderr).toContain('starting without it');
      expect(run.code).toBe(0);
    } finally {
      await own.close();
    }
  }, 90_000);

  it('restarted during an outage, serves the targets it served before, from its snapshots', async () => {
    const own = await EtcdCluster.start();
    const member = own.members[0];
    const dir = mkdtempSync(join(tmpdir(), 'gsr-http-sd-snapshots-'));
    try {
      const prefix = uniquePrefix();
      const client = new Etcd3({ hosts: own.endpoints });
      await client.put(`${prefix}services/web/10.0.0.1:80`).value('');
      client.close();
      const env = {
        GSR_ETCD_ENDPOINTS: own.endpoints.join(','),
        GSR_KEY_PREFIX: prefix,
        GSR_SNAPSHOT_DIR: dir,
      };
      /** Runs http-sd until it serves 200, and returns what it served. */
      const served = async (): Promise<unknown> => {
        let body: unknown;
        const run = await runNode([bin, 'http-sd', '--port', '0'], {
          env,
          timeoutMs: 60_000,
          onStdout: (text, child) => {
            const url = /serving Prometheus' HTTP service discovery at (\S+) /.exec(text)?.[1];
            if (url !== undefined) {
              void firstServed(url, 'served')
                .then((json) => (body = json))
                .finally(() => child.kill('SIGINT'));
            }
          },
        });
        expect(run.code).toBe(0);
        return body;
      };
      const targets = [
        {
          targets: ['10.0.0.1:80'],
          labels: { __meta_gsr_service: 'web', __meta_gsr_state: 'serving' },
        },
      ];
      expect(await served()).toEqual(targets);
      await member?.stop();
      expect(await served()).toEqual(targets);
    } finally {
      await own.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('exits 1 when etcd, once it answers, refuses its credentials (etcd being down did not end it)', async () => {
    const own = await EtcdCluster.start();
    const member = own.members[0];
    try {
      await enableEtcdAuth(own.endpoints, 'rootpw', [
        { name: 'svc', password: 'good', readWritePrefix: 'gsr/' },
      ]);
      await member?.stop();
      const run = await runNode([bin, 'http-sd', '--port', '0'], {
        env: {
          GSR_ETCD_ENDPOINTS: own.endpoints.join(','),
          GSR_ETCD_USERNAME: 'svc',
          GSR_ETCD_PASSWORD: 'wrong',
        },
        timeoutMs: 60_000,
        onStdout: (text) => {
          if (text.includes('serving')) {
            void member?.start();
          }
        },
      });
      expect(run.stdout).toContain('serving');
      expect(run.stderr).toContain('starting without it');
      expect(run.stderr).toMatch(/gsr: .*svc/);
      expect(run.code).toBe(1);
    } finally {
      await own.close();
    }
  }, 90_000);

  it('exits 2 naming the option it cannot use', async () => {
    const run = await runNode([bin, 'http-sd', '--port', '70000'], {
      env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(',') },
    });
    expect(run.stderr).toContain('Invalid --port "70000": expected a port number from 0 to 65535');
    expect(run.code).toBe(2);
  });
});
