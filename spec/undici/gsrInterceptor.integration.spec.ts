import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import { Agent, fetch } from 'undici';
import { ORCA_HEADER } from '../../lib/orca/orcaCodec';
import { OrcaRecorder } from '../../lib/orca/OrcaRecorder';
import type { Registry } from '../../lib/registry/Registry';
import { gsrInterceptor, type GsrInterceptor } from '../../lib/undici/gsrInterceptor';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

interface Served {
  readonly name: string;
  readonly address: string;
  readonly hosts: string[];
  readonly server: Server;
}

const servers: Served[] = [];
const registrations: Subscription[] = [];
const interceptors: GsrInterceptor[] = [];
const agents: Agent[] = [];
afterEach(async () => {
  registrations.splice(0).forEach((registration) => registration.unsubscribe());
  await Promise.all(interceptors.splice(0).map((interceptor) => interceptor.close()));
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
  for (const { server } of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** An HTTP server on loopback that answers its name, and records the Host header of each request. */
async function serve(
  name: string,
  answer: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) =>
    response.end(name),
): Promise<Served> {
  const hosts: string[] = [];
  const server = createServer((request, response) => {
    hosts.push(request.headers.host ?? '');
    answer(request, response);
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const served = {
    name,
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    hosts,
    server,
  };
  servers.push(served);
  return served;
}

describe('gsrInterceptor: gsr services by name from undici fetch, against real etcd and HTTP servers', () => {
  const etcd = useEtcd();
  let registry: Registry;
  let logs: string[];

  beforeEach(async () => {
    ({ registry, logs } = await connectTest(etcd.endpoints));
  });

  async function register(
    service: string,
    address: string,
    metadata?: Record<string, string>,
  ): Promise<Subscription> {
    const registration = record(registry.register({ service, address, metadata }));
    registrations.push(registration.subscription);
    await eventually(() => registration.values.length === 1);
    return registration.subscription;
  }

  function dispatcherOf(options: Parameters<typeof gsrInterceptor>[1] = {}) {
    const interceptor = gsrInterceptor(registry, options);
    interceptors.push(interceptor);
    const agent = new Agent();
    agents.push(agent);
    return { interceptor, dispatcher: agent.compose(interceptor) };
  }

  it('sends a request to a service by name to its endpoints, in turn, with the name as Host', async () => {
    const [a, b] = await Promise.all([serve('a'), serve('b')]);
    await register('data-access', a.address);
    await register('data-access', b.address);
    const { dispatcher } = dispatcherOf();
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(await (await fetch('http://data-access/users/7', { dispatcher })).text());
    }
    expect(answers.sort()).toEqual(['a', 'a', 'a', 'b', 'b', 'b']);
    expect(new Set([...a.hosts, ...b.hosts])).toEqual(new Set(['data-access']));
  });

  it("works with Node's own fetch too", async () => {
    const a = await serve('a');
    await register('data-access', a.address);
    const { dispatcher } = dispatcherOf();
    const init = { dispatcher } as RequestInit; // Node's RequestInit does not declare `dispatcher`.
    const response = await globalThis.fetch('http://data-access/users/7', init);
    expect(await response.text()).toBe('a');
    expect(a.hosts).toEqual(['data-access']);
  });

  it("serves a handler of today's API too (onResponseStart, …), retrying as for fetch", async () => {
    const [alive, gone] = await Promise.all([serve('alive'), serve('gone')]);
    await register('api', alive.address);
    await register('api', gone.address);
    gone.server.closeAllConnections();
    gone.server.close();
    const { dispatcher } = dispatcherOf({ balancer: { outlier: false } });
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        dispatcher.dispatch(
          { origin: 'http://api', path: '/', method: 'GET' },
          {
            // undici takes a handler without onRequestStart for one of the older API.
            onRequestStart: () => undefined,
            onResponseStart: (_controller, statusCode) => expect(statusCode).toBe(200),
            onResponseData: (_controller, chunk) => void chunks.push(chunk),
            onResponseEnd: () => resolve(Buffer.concat(chunks).toString()),
            onResponseError: (_controller, error) => reject(error),
          },
        );
      });
    for (let i = 0; i < 4; i++) {
      expect(await get()).toBe('alive');
    }
    expect(alive.hosts).toEqual(['api', 'api', 'api', 'api']);
  });

  it("routes by zone from this process's own registration, by default", async () => {
    const servers = await Promise.all(['a0', 'b0', 'b1', 'b2'].map((name) => serve(name)));
    // The servers and the other caller are other processes: a registry of their own.
    const { registry: others } = await connectTest(etcd.endpoints, {
      keyPrefix: registry.config.keyPrefix,
    });
    for (const server of servers) {
      registrations.push(
        others
          .register({ service: 'api', address: server.address, metadata: { zone: server.name[0] } })
          .subscribe(),
      );
    }
    registrations.push(
      others
        .register({ service: 'web', address: '10.0.0.2:80', metadata: { zone: 'b' } })
        .subscribe(),
    );
    // This process: web, in zone a.
    await register('web', '10.0.0.1:80', { zone: 'a' });
    const { dispatcher, interceptor } = dispatcherOf({
      balancer: { locality: { minClusterSize: 4 } },
    });
    await eventually(async () => {
      await (await fetch('http://api/', { dispatcher })).text();
      return interceptor.balancer('api').locality().routing.kind === 'residual';
    });
    // Zone a has a quarter of api and half of the callers: half of this process's calls stay in a.
    expect(interceptor.balancer('api').locality().routing).toMatchObject({ local: 0.5 });
  });

  it("ends a request no endpoint took with the balancer's error, and survives a handler that throws it", async () => {
    const { dispatcher } = dispatcherOf({ balancer: { timeout: 0 } });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ended = await new Promise<{ aborted: boolean; name: string }>((resolve) => {
        dispatcher.dispatch(
          { origin: 'http://nobody', path: '/', method: 'GET' },
          {
            onRequestStart: () => undefined,
            onResponseError: (controller, error) => {
              resolve({ aborted: controller.aborted, name: error.name });
              throw error; // A careless handler: the process must not end for it.
            },
          },
        );
      });
      expect(ended).toEqual({ aborted: false, name: 'NoEndpointError' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('leaves any other host to the next dispatcher', async () => {
    const plain = await serve('plain');
    const { dispatcher } = dispatcherOf();
    const response = await fetch(`http://${plain.address}/`, { dispatcher });
    expect(await response.text()).toBe('plain');
    expect(plain.hosts).toEqual([plain.address]);
  });

  it('retries a GET that found an endpoint gone on another, and never a POST', async () => {
    const [alive, dying] = await Promise.all([serve('alive'), serve('dying')]);
    await register('api', alive.address);
    await register('api', dying.address);
    const { dispatcher } = dispatcherOf({ balancer: { outlier: false } });
    dying.server.closeAllConnections();
    dying.server.close();
    for (let i = 0; i < 6; i++) {
      expect(await (await fetch('http://api/', { dispatcher })).text()).toBe('alive');
    }
    const posts = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        fetch('http://api/', { dispatcher, method: 'POST', body: 'x' }),
      ),
    );
    // Round-robin: half of them went to the gone endpoint, and were not sent again.
    expect(posts.filter((post) => post.status === 'rejected')).toHaveLength(3);
  });

  it('passes a 5xx on as it came, and ejects the endpoint that keeps answering it', async () => {
    const good = await serve('good');
    const bad = await serve('bad', (_request, response) => {
      response.statusCode = 503;
      response.end('bad');
    });
    await register('api', good.address);
    await register('api', bad.address);
    const { dispatcher, interceptor } = dispatcherOf();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      statuses.push((await fetch('http://api/', { dispatcher })).status);
    }
    expect(statuses).toContain(503);
    // Three 5xx in a row eject it: the rest went to the good one.
    expect(statuses.filter((status) => status === 503)).toHaveLength(3);
    expect(
      interceptor
        .balancer('api')
        .stats()
        .find((s) => s.endpoint.address === bad.address),
    ).toMatchObject({
      ejected: true,
    });
  });

  it("releases an endpoint's connection pool when it leaves the list", async () => {
    const [a, b] = await Promise.all([serve('a'), serve('b')]);
    await register('api', a.address);
    const leaving = await register('api', b.address);
    const { dispatcher, interceptor } = dispatcherOf();
    for (let i = 0; i < 4; i++) {
      await (await fetch('http://api/', { dispatcher })).text();
    }
    expect(interceptor.pools).toBe(2);
    leaving.unsubscribe();
    await eventually(() => interceptor.pools === 1);
  });

  it("weighs endpoints by their load reports with 'weighted-round-robin', and reads a bad report as none", async () => {
    const light = new OrcaRecorder();
    const heavy = new OrcaRecorder();
    light.setApplicationUtilization(0.2);
    heavy.setApplicationUtilization(0.8);
    const reporting = (recorder: OrcaRecorder, name: string) =>
      serve(name, (_request, response) => {
        recorder.track(response);
        response.end(name);
      });
    const [a, b] = await Promise.all([reporting(light, 'light'), reporting(heavy, 'heavy')]);
    const liar = await serve('liar', (_request, response) => {
      response.setHeader(ORCA_HEADER, Buffer.from([0x0a, 0xff, 0xff]).toString('base64'));
      response.end('liar');
    });
    await register('api', a.address);
    await register('api', b.address);
    await register('api', liar.address);
    const { dispatcher, interceptor } = dispatcherOf({
      balancer: {
        strategy: 'weighted-round-robin',
        weightedRoundRobin: { blackoutPeriodMs: 0, weightUpdatePeriodMs: 100 },
      },
    });
    // Both report about the same qps (they get the same calls until weights count): light's weight is
    // then 4 times heavy's, and the liar, whose reports weigh nothing, gets the mean of theirs. The
    // schedule takes up new weights every 100 ms: batches of calls until it has.
    let counts: Record<string, number> = {};
    await eventually(
      async () => {
        counts = {};
        for (let i = 0; i < 60; i++) {
          const name = await (await fetch('http://api/', { dispatcher })).text();
          counts[name] = (counts[name] ?? 0) + 1;
        }
        return (counts.light ?? 0) > (counts.heavy ?? 0) * 2;
      },
      20_000,
      'calls weighed by load reports',
    );
    light.close();
    heavy.close();
    expect(counts.liar ?? 0).toBeGreaterThan(0);
    expect(logs.filter((line) => line.includes('not an OrcaLoadReport'))).toHaveLength(1);
    expect(interceptor.balancer('api').endpoints).toHaveLength(3);
  });
});
