import type { IncomingMessage, ServerResponse } from 'node:http';
import { of } from 'rxjs';
import { ValidationError } from '../errors/ValidationError';
import { hostAllowed } from '../http/hostAllowed';
import { requestPath } from '../http/requestPath';
import { validateHosts } from '../http/validateHosts';
import { noServiceList } from '../keys/noServiceList';
import type { Registry } from '../registry/Registry';
import { escapeText } from '../text/escapeText';
import { TargetCatalog } from './TargetCatalog';

/** Options of {@link createHttpSdHandler}. */
export interface HttpSdOptions {
  /**
   * Serve these services rather than every service in the registry. Required with etcd's naming layout
   * (`GSR_KEY_LAYOUT=etcd-naming`), which has no list of services to read.
   */
  readonly services?: readonly string[];
  /**
   * Host names it answers to, besides loopback names and the address a request arrived on; any other
   * `Host` is answered 421, as the dashboard does. Add the name Prometheus reaches it by.
   * @default []
   */
  readonly allowedHosts?: readonly string[];
  /**
   * How long the first request waits for the registry's first lists before it is answered 503 (with
   * `Retry-After`; Prometheus keeps its last good targets meanwhile).
   * @default 10000
   */
  readonly readyTimeoutMs?: number;
}

/** A Node request handler serving Prometheus' HTTP service discovery; mount it in `http`, Express... */
export interface HttpSdHandler {
  /**
   * Answers `GET` and `HEAD` of `/` (every service) and `/?service=<name>` (one, or several with the
   * parameter repeated); anything else goes to `next` when given (Express-style), else is answered 404
   * (405 for another method).
   */
  (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): void;
  /** Releases the registry's streams it follows; later requests are answered 503. */
  close(): void;
}

const HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

/**
 * Prometheus' HTTP service discovery (`http_sd_configs`) from the registry: one or more target groups
 * per service (endpoints with the same labels share one), labelled `__meta_gsr_service`,
 * `__meta_gsr_state` and `__meta_gsr_metadata_<field>` (nested fields flattened with `_`, names
 * sanitised for Prometheus).
 *
 * - Served from the registry's shared live streams, which the first request starts following: a scrape
 *   costs etcd nothing, and a service's JSON is made once per change. Each answer has an `ETag`; a
 *   request with a matching `If-None-Match` is answered 304.
 * - Safe with untrusted data: addresses that are not `host:port` are skipped and metadata is bounded
 *   (64 labels, 1,024 characters each), each said once in the registry's log. It answers only to
 *   loopback names, the address a request arrived on and `allowedHosts`.
 * - It has no authentication: expose it only where everyone who can reach it may read the registry.
 *
 * @throws {@link gsr!ValidationError} for an invalid service name or option, or for no `services` under
 * etcd's naming layout.
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { Registry } from 'gsr';
 * import { createHttpSdHandler } from 'gsr/http-sd';
 *
 * const registry = await Registry.connect();
 * createServer(createHttpSdHandler(registry)).listen(9464, '127.0.0.1');
 * // prometheus.yml: scrape_configs: [{ job_name: gsr, http_sd_configs: [{ url: 'http://127.0.0.1:9464/' }] }]
 * ```
 */
export function createHttpSdHandler(
  registry: Registry,
  options: HttpSdOptions = {},
): HttpSdHandler {
  const fixed = options.services?.map((service) => registry.validateService(service, 'services'));
  if (fixed === undefined && !registry.listsServices) {
    throw noServiceList('services', undefined, 'name the services to serve');
  }
  const allowedHosts = validateHosts(options.allowedHosts);
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  if (!Number.isSafeInteger(readyTimeoutMs) || readyTimeoutMs < 0) {
    throw new ValidationError('readyTimeoutMs', readyTimeoutMs, 'expected milliseconds, 0 or more');
  }
  const catalog = new TargetCatalog(
    registry,
    fixed === undefined ? registry.services$() : of([...new Set(fixed)].sort()),
  );
  let closed = false;

  const serve = async (
    request: IncomingMessage,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ): Promise<void> => {
    const path = requestPath(request.url);
    if (path === undefined) {
      answer(response, 400, 'bad request target');
      return;
    }
    if (path !== '/') {
      if (next !== undefined) {
        next();
      } else {
        answer(response, 404, 'not found; targets are served at /');
      }
      return;
    }
    const allowed = hostAllowed(request, allowedHosts);
    if (allowed !== true) {
      answer(
        response,
        allowed === false ? 421 : 400,
        allowed === false
          ? 'this server does not answer to that Host'
          : 'one Host, or a target in absolute form, is needed',
      );
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      answer(response, 405, 'service discovery is read-only');
      return;
    }
    const asked = servicesAsked(request.url ?? '/', registry);
    if (typeof asked === 'string') {
      answer(response, 400, asked);
      return;
    }
    const outside = fixed === undefined ? undefined : asked?.find((s) => !fixed.includes(s));
    if (outside !== undefined) {
      answer(response, 404, `service "${escapeText(outside, 100)}" is not served here`);
      return;
    }
    if (!closed) {
      await catalog.whenReady(readyTimeoutMs, asked);
    }
    if (closed || !catalog.readyFor(asked)) {
      response.setHeader('Retry-After', '5');
      const why = closed ? 'closed' : (catalog.problem ?? 'waiting for etcd');
      answer(response, 503, `service discovery is not ready: ${escapeText(why, 300)}`);
      return;
    }
    const found = asked === undefined ? catalog.all() : catalog.some(asked);
    const etagMatches = matches(request.headers['if-none-match'], found.etag);
    response.writeHead(etagMatches ? 304 : 200, {
      ...HEADERS,
      ETag: found.etag,
      ...(!etagMatches && {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': found.body.length,
      }),
    });
    response.end(etagMatches || request.method === 'HEAD' ? undefined : found.body);
  };

  // Whatever a request holds, it gets an answer and the server keeps serving.
  const handler = (
    request: IncomingMessage,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ): void => {
    serve(request, response, next).catch(() => {
      if (response.headersSent) {
        response.destroy();
      } else {
        answer(response, 500, 'service discovery could not answer this request');
      }
    });
  };
  return Object.defineProperties(handler, {
    close: {
      value: () => {
        closed = true;
        catalog.close();
      },
    },
  }) as HttpSdHandler;
}

const DEFAULT_READY_TIMEOUT_MS = 10_000;

/**
 * The services a request's query names (`service`, repeatable), `undefined` for none, or what is wrong
 * with it: another parameter, or a name that is not a service's.
 */
function servicesAsked(target: string, registry: Registry): readonly string[] | undefined | string {
  const query = target.indexOf('?');
  if (query < 0) {
    return undefined;
  }
  const services: string[] = [];
  for (const [name, value] of new URLSearchParams(target.slice(query + 1).replace(/#.*$/, ''))) {
    if (name !== 'service') {
      return `unknown parameter "${escapeText(name, 100)}"; expected service=<name>`;
    }
    try {
      services.push(registry.validateService(value, 'service'));
    } catch (error) {
      return (error as Error).message;
    }
  }
  return services.length === 0 ? undefined : [...new Set(services)];
}

/** Whether an `If-None-Match` header names `etag` (weakly, as RFC 9110 compares for GET) or is `*`. */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) {
    return false;
  }
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

function answer(response: ServerResponse, status: number, text: string): void {
  response
    .writeHead(status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' })
    .end(`${text}\n`);
}
