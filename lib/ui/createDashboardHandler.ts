import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { of } from 'rxjs';
import { ValidationError } from '../errors/ValidationError';
import { noServiceList } from '../keys/noServiceList';
import { hostAllowed } from '../http/hostAllowed';
import { validateHosts } from '../http/validateHosts';
import { requestPath } from '../http/requestPath';
import type { Registry } from '../registry/Registry';
import { DashboardFeed } from './DashboardFeed';

/** Options of {@link createDashboardHandler}. */
export interface DashboardOptions {
  /**
   * Show these services rather than every service in the registry. Required with etcd's naming layout
   * (`GSR_KEY_LAYOUT=etcd-naming`), which has no list of services to read.
   */
  readonly services?: readonly string[];
  /**
   * Host names the dashboard answers to, besides loopback names (`localhost`, `127.0.0.1`, `::1`) and
   * the address a request arrived on. A request whose `Host` header names anything else is answered
   * 421 with no data: that is how a page on a domain that resolves to this machine (DNS rebinding)
   * would read it. Add the names it is reached as behind a proxy or on a network.
   * @default []
   */
  readonly allowedHosts?: readonly string[];
  /**
   * How many pages may be open at once; past it, a new page's event stream is answered 503 with
   * `Retry-After` (its browser tries again). Each costs a few kilobytes and its subscriptions.
   * @default 100
   */
  readonly maxPages?: number;
}

/** A Node request handler serving the dashboard; mount it in `http`, Express, Fastify... */
export interface DashboardHandler {
  /**
   * Serves the page and its event stream, for `GET` and `HEAD`; anything else is passed to `next`
   * when given (Express-style), else answered 404 (or 405 for another method).
   */
  (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): void;
  /** How many pages are open. */
  readonly pages: number;
  /** Ends every open page's stream (their subscriptions released) and refuses new ones. */
  close(): void;
}

/**
 * Everything the page needs comes from this origin and nothing runs but its own script: untrusted
 * addresses and metadata are rendered as text, and this policy stops anything that would slip through.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The page's files, served from the package (no build step, no network). */
const ASSETS: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/': { file: 'dashboard.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/**
 * A live dashboard of the registry, as a Node request handler to mount in your own HTTP server (`gsr ui`
 * serves the same one): every service and its endpoints (address, metadata), updated as they come and
 * go, with arrivals and departures highlighted, etcd's connection state as a banner, and a filter.
 *
 * - One page costs an event stream (Server-Sent Events) fed by the registry's shared streams: however
 *   many pages are open, etcd sees one watch per service. Closing a page releases what it took.
 * - Read-only, and safe with untrusted data: everything read from etcd is rendered as text, under a
 *   strict Content-Security-Policy; the page loads nothing from anywhere else.
 * - It serves paths relative to where it is mounted (`/`, `/dashboard.js`, `/dashboard.css`,
 *   `/events`), so it can live under any prefix that ends with `/`; a request for the prefix without
 *   its `/` is redirected.
 * - It has no authentication: expose it only where everyone who can reach it may read the registry.
 *
 * @throws {@link gsr!ValidationError} for an invalid service name, or for no `services` under etcd's naming
 * layout.
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { Registry } from 'gsr';
 * import { createDashboardHandler } from 'gsr/ui';
 *
 * const registry = await Registry.connect();
 * const dashboard = createDashboardHandler(registry);
 * createServer(dashboard).listen(7700, '127.0.0.1');
 * // Express: app.use('/registry', dashboard);
 * ```
 */
export function createDashboardHandler(
  registry: Registry,
  options: DashboardOptions = {},
): DashboardHandler {
  const fixed = options.services?.map((service) => registry.validateService(service, 'services'));
  if (fixed === undefined && !registry.listsServices) {
    throw noServiceList('services', undefined, 'name the targets to show');
  }
  const names$ = fixed === undefined ? registry.services$() : of([...new Set(fixed)].sort());
  const allowedHosts = validateHosts(options.allowedHosts);
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  if (!Number.isSafeInteger(maxPages) || maxPages < 1) {
    throw new ValidationError('maxPages', maxPages, 'expected a whole number of at least 1');
  }
  const assets = new Map(
    Object.entries(ASSETS).map(([path, { file, type }]) => [
      path,
      { body: readFileSync(join(__dirname, 'assets', file)), type },
    ]),
  );
  const feeds = new Set<DashboardFeed>();
  let closed = false;

  const serve = (
    request: IncomingMessage,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ): void => {
    const path = requestPath(request.url);
    if (path === undefined) {
      answer(response, 400, 'bad request target');
      return;
    }
    const asset = assets.get(path);
    if (asset === undefined && path !== '/events') {
      if (next !== undefined) {
        next();
      } else {
        answer(response, 404, 'not found');
      }
      return;
    }
    const allowed = hostAllowed(request, allowedHosts);
    if (allowed !== true) {
      answer(
        response,
        allowed === false ? 421 : 400,
        allowed === false
          ? 'this dashboard does not answer to that Host'
          : 'one Host, or a target in absolute form, is needed',
      );
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      answer(response, 405, 'the dashboard is read-only');
      return;
    }
    // Mounted under a prefix and asked without its "/" (Express strips the prefix): relative URLs in
    // the page need it. Only ever to a path of this origin: the last segment, relative.
    const asked = requestPath((request as { originalUrl?: string }).originalUrl);
    if (path === '/' && asked !== undefined && !asked.endsWith('/')) {
      const segment = asked.slice(asked.lastIndexOf('/') + 1);
      if (!SAFE_SEGMENT.test(segment)) {
        answer(response, 404, 'not found');
        return;
      }
      response.writeHead(301, { ...SECURITY_HEADERS, Location: `./${segment}/` }).end();
      return;
    }
    if (asset !== undefined) {
      response.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': asset.type,
        'Content-Length': asset.body.length,
        'Cache-Control': 'no-cache',
      });
      response.end(request.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (closed) {
      answer(response, 503, 'the dashboard is closed');
      return;
    }
    if (feeds.size >= maxPages) {
      response.setHeader('Retry-After', '10');
      answer(response, 503, `${maxPages} pages are open already; try again later`);
      return;
    }
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no', // nginx: pass events on as they come
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    response.flushHeaders();
    const feed: DashboardFeed = new DashboardFeed(registry, response, names$, () =>
      feeds.delete(feed),
    );
    feeds.add(feed);
  };

  // Whatever a request holds, it gets an answer and the server keeps serving: nothing it sends may
  // throw out of a handler that an application mounts.
  const handler = (
    request: IncomingMessage,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ): void => {
    try {
      serve(request, response, next);
    } catch {
      if (response.headersSent) {
        response.destroy();
      } else {
        answer(response, 500, 'the dashboard could not answer this request');
      }
    }
  };
  return Object.defineProperties(handler, {
    pages: { get: () => feeds.size },
    close: {
      value: () => {
        closed = true;
        [...feeds].forEach((feed) => feed.end());
        feeds.clear();
      },
    },
  }) as DashboardHandler;
}

/** A last path segment a redirect may name: nothing a browser would read as another origin. */
const SAFE_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const DEFAULT_MAX_PAGES = 100;

function answer(response: ServerResponse, status: number, text: string): void {
  response
    .writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
    .end(`${text}\n`);
}
