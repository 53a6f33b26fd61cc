import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import fc from 'fast-check';
import { createDashboardHandler, type DashboardHandler } from '../../lib/ui/createDashboardHandler';
import { propertyParameters } from '../support/propertyParameters';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/** What a raw exchange over one socket gave: the status code (or none: the server hung up). */
interface Exchange {
  readonly status: number | undefined;
  readonly head: string;
  readonly body: string;
}

/**
 * Sends `request` as it is over a fresh socket and reads what comes back within `ms` (an event stream
 * never ends by itself): the status line, the headers and what body arrived.
 */
function exchange(port: number, request: string, ms = 300): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const done = (): void => {
      socket.destroy();
      const [head = '', body = ''] = received.split('\r\n\r\n', 2);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      resolve({ status: status === undefined ? undefined : Number(status), head, body });
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      done();
    });
    socket.write(request, 'latin1');
  });
}

const get = (target: string, host = 'localhost'): string =>
  `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

describe('the dashboard under hostile requests', () => {
  const etcd = useEtcd();
  let server: Server | undefined;
  let handler: DashboardHandler | undefined;
  let port = 0;

  /** Serves a dashboard as the README shows: mounted in a plain Node HTTP server. */
  async function serve(options: Parameters<typeof createDashboardHandler>[1] = {}): Promise<void> {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/a:1`).value('{"secret":"registry data"}');
    handler = createDashboardHandler(registry, options);
    server = createServer(handler).listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  }
  const stillServes = async (): Promise<void> => {
    expect((await exchange(port, get('/'))).status).toBe(200);
  };

  afterEach(() => {
    handler?.close();
    server?.closeAllConnections();
    server?.close();
  });

  it.each(['http://x:99999/', 'http://[/', 'http://%zz/', 'http://x:1:2/', '*'])(
    'answers a target Node accepts but no URL is (%s) with 400, and keeps serving',
    async (target) => {
      await serve();
      expect((await exchange(port, get(target))).status).toBe(400);
      await stillServes();
    },
  );

  it('answers 421, with no data, a Host it is not reached as (DNS rebinding)', async () => {
    await serve();
    const rebound = await exchange(port, get('/events', 'evil.example'));
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('registry data');
    expect((await exchange(port, get('/', 'evil.example'))).status).toBe(421);
    for (const host of [
      'localhost',
      `localhost:${port}`,
      '127.0.0.1',
      `127.0.0.1:${port}`,
      '[::1]',
    ]) {
      expect((await exchange(port, get('/', host))).status).toBe(200);
    }
    const missing = await exchange(port, 'GET / HTTP/1.0\r\n\r\n');
    expect(missing.status).toBe(421);
    // A Host that a URL parser would read as another host behind userinfo.
    expect((await exchange(port, get('/', 'evil.example@127.0.0.1'))).status).toBe(421);
  });

  it('reads the host from an absolute-form target, not from Host, and refuses two Host lines (RFC 9112)', async () => {
    await serve();
    const absolute = (target: string, host: string) =>
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    const rebound = await exchange(port, absolute('http://evil.example/events', '127.0.0.1'));
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('registry data');
    expect(
      (await exchange(port, absolute(`http://127.0.0.1:${port}/`, 'evil.example'))).status,
    ).toBe(200);
    const twice = await exchange(
      port,
      'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
    );
    expect(twice.status).toBe(400);
    expect(twice.body).not.toContain('registry data');
    await stillServes();
  });

  it('answers the Host names it is told to, and still no other', async () => {
    await serve({ allowedHosts: ['registry.internal'] });
    const allowed = await exchange(port, get('/events', 'registry.internal:7700'));
    expect(allowed.status).toBe(200);
    expect(allowed.body).toContain('registry data');
    expect((await exchange(port, get('/events', 'evil.example'))).status).toBe(421);
  });

  it('never redirects off its own origin', async () => {
    await serve();
    for (const target of [
      '//evil.example',
      '/\\evil.example',
      '//evil.example/',
      '/%2F%2Fevil.example',
    ]) {
      const answer = await exchange(port, get(target));
      expect(answer.head).not.toMatch(/^Location:/im);
      expect(answer.status).toBe(404);
    }
  });

  it('redirects a mounted dashboard asked without its "/" to a relative path of its own', async () => {
    const { registry } = await connectTest(etcd.endpoints);
    const dashboard = createDashboardHandler(registry);
    handler = dashboard;
    // As Express mounts it with app.use('/registry', dashboard): the prefix stripped, kept in originalUrl.
    server = createServer((request, response) => {
      const originalUrl = request.url ?? '/';
      const rest = originalUrl.replace(/^\/(registry|\/evil\.example)/, '') || '/';
      dashboard(Object.assign(request, { url: rest, originalUrl }), response);
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
    const mounted = await exchange(port, get('/registry'));
    expect(mounted.status).toBe(301);
    expect(mounted.head).toMatch(/^Location: \.\/registry\/$/im);
    // Mounted at a prefix that looks like another origin, it still redirects only to a relative path:
    // one that a browser resolves on this origin.
    const tricky = await exchange(port, get('//evil.example'));
    const location = /^Location: (.*)$/im.exec(tricky.head)?.[1];
    expect(location).toBe('./evil.example/');
    expect(new URL(location ?? '', `http://127.0.0.1:${port}//evil.example`).host).toBe(
      `127.0.0.1:${port}`,
    );
  });

  it('caps the pages open at once: past it, 503 with Retry-After', async () => {
    await serve({ maxPages: 2 });
    const sockets = [1, 2].map(() => connect(port, '127.0.0.1'));
    for (const socket of sockets) {
      socket.on('error', () => undefined);
      socket.write(get('/events').replace('Connection: close\r\n', ''));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handler?.pages).toBe(2);
    const third = await exchange(port, get('/events'));
    expect(third.status).toBe(503);
    expect(third.head).toMatch(/^Retry-After: \d+/im);
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handler?.pages).toBe(0);
    expect((await exchange(port, get('/events'))).status).toBe(200);
  });

  it('answers any raw request (targets, methods, headers, bodies) and keeps serving', async () => {
    await serve();
    const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
    const target = fc.oneof(
      fc.constantFrom(
        '/',
        '/events',
        '/dashboard.js',
        '//evil.example',
        '/\\x',
        '*',
        '/%00',
        '/..%2f',
      ),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.stringMatching(/^\/[\x21-\x7e]{0,40}$/),
      fc.stringMatching(/^https?:\/\/[\x21-\x7e]{0,30}$/),
      fc.string({ maxLength: 30 }),
    );
    const header = fc.tuple(token, fc.stringMatching(/^[\x20-\x7e]{0,40}$/));
    const host = fc.oneof(
      fc.constantFrom('localhost', '127.0.0.1', '[::1]', 'evil.example', '', ' ', '[::1', 'a@b'),
      fc.domain(),
      fc.stringMatching(/^[\x21-\x7e]{0,20}$/),
    );
    const request = fc.record({
      method: fc.oneof(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE'),
        token,
      ),
      target,
      host: fc.option(host, { nil: undefined }),
      headers: fc.array(header, { maxLength: 4 }),
      body: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method, target: path, host: name, headers, body }) => {
        const lines = [
          `${method} ${path} HTTP/1.1`,
          ...(name === undefined ? [] : [`Host: ${name}`]),
          ...headers.map(([field, value]) => `${field}: ${value}`),
          ...(body === undefined ? [] : [`Content-Length: ${Buffer.byteLength(body, 'latin1')}`]),
          'Connection: close',
        ];
        const answer = await exchange(port, `${lines.join('\r\n')}\r\n\r\n${body ?? ''}`, 150);
        // Node's parser refuses what is not HTTP (400 and hangs up); everything else gets an answer,
        // and nothing but an allowed Host gets data.
        if (answer.status === 200 && answer.head.includes('text/event-stream')) {
          expect(['localhost', '127.0.0.1', '[::1]']).toContain(name?.toLowerCase());
        }
        expect(answer.status === undefined || (answer.status >= 200 && answer.status < 600)).toBe(
          true,
        );
        expect((await exchange(port, get('/dashboard.css'))).status).toBe(200);
      }),
      propertyParameters(120),
    );
  });
});
