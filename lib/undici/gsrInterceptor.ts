import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Dispatcher, Pool } from 'undici';
import { Balancer } from '../balancing/Balancer';
import type { BalancerOptions } from '../balancing/BalancerOptions';
import { PreconditionError } from '../errors/PreconditionError';
import { isRetryableError } from '../balancing/isRetryableError';
import { ORCA_HEADER } from '../orca/orcaCodec';
import type { Registry } from '../registry/Registry';

/** Options of {@link gsrInterceptor}. */
export interface GsrInterceptorOptions {
  /**
   * Which host names are gsr services: these names, or those the function accepts. By default, a
   * one-label host name (`data-access`, no dot) that is a valid service name and not `localhost`;
   * every other host goes to the next dispatcher as it came.
   */
  readonly services?: readonly string[] | ((host: string) => boolean);
  /** The options of each service's `Balancer` (strategy, retries, outlier ejection, locality, …). */
  readonly balancer?: BalancerOptions;
  /** The options of each endpoint's connection pool (undici's `Pool`). */
  readonly pool?: Pool.Options;
}

/** The interceptor, and what it holds: a balancer per service, a pool per endpoint. */
export interface GsrInterceptor extends Dispatcher.DispatcherComposeInterceptor {
  /** How many connection pools are open now (one per endpoint called, until it leaves its list). */
  readonly pools: number;
  /** The balancer of `service` (made if it has none yet): its `stats()`, `locality()`. */
  balancer(service: string): Balancer;
  /** Closes every balancer and pool it opened; requests in flight finish. */
  close(): Promise<void>;
}

/** Methods safe to send again on another endpoint (RFC 9110's idempotent methods). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** A response status that counts against its endpoint (ejection), as Envoy's consecutive 5xx. */
class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * An undici interceptor that makes gsr services reachable by name from `fetch`: a request to
 * `http://data-access/users/7` goes to an endpoint of `data-access` picked by a `Balancer`, over a
 * connection pool of that endpoint's own (released when the endpoint leaves the list). What is safe to
 * send again (an idempotent method with a body that can be replayed) and failed before any answer
 * (refused, reset) is retried on another endpoint, within the balancer's retry budget; a 5xx answer
 * counts against its endpoint (outlier ejection) and is passed on as it is. Latency to the response's
 * headers and the server's load report (`endpoint-load-metrics-bin`) feed the balancer, so that
 * `strategy: 'weighted-round-robin'` weighs endpoints by what they report. Any other host goes to the
 * next dispatcher. Needs `undici` (7) installed.
 *
 * @throws {@link gsr!PreconditionError} when `undici` is not installed.
 * @example
 * ```ts
 * import { Agent, fetch } from 'undici';
 * import { gsrInterceptor } from 'gsr/undici';
 *
 * const gsr = gsrInterceptor(registry, { balancer: { strategy: 'weighted-round-robin' } });
 * const dispatcher = new Agent().compose(gsr);
 * const user = await (await fetch('http://data-access/users/7', { dispatcher })).json();
 * ```
 */
export function gsrInterceptor(
  registry: Registry,
  options: GsrInterceptorOptions = {},
): GsrInterceptor {
  const undici = loadUndici();
  const isService = serviceRule(registry, options.services);
  const services = new Map<string, { balancer: Balancer; pools: Map<string, Pool> }>();
  const serviceOf = (name: string) => {
    let service = services.get(name);
    if (service === undefined) {
      const balancer = new Balancer(registry.endpoints$(name), {
        logger: registry.logger,
        ...options.balancer,
      });
      const pools = new Map<string, Pool>();
      service = { balancer, pools };
      services.set(name, service);
      // An endpoint that leaves the list leaves no pool behind: its connections close once idle.
      balancer.list$.subscribe((list) => {
        const listed = new Set(list.map((endpoint) => endpoint.address));
        for (const [address, pool] of pools) {
          if (!listed.has(address)) {
            pools.delete(address);
            void pool.close().catch(() => undefined);
          }
        }
      });
    }
    return service;
  };

  const interceptor = ((dispatch: Dispatcher.Dispatch): Dispatcher.Dispatch =>
    (opts, given) => {
      const origin = opts.origin === undefined ? undefined : new URL(opts.origin);
      if (origin === undefined || !isService(origin.hostname)) {
        return dispatch(opts, given);
      }
      // A handler of the older API (onHeaders, onData, …), from an older undici, adapted to today's.
      const handler: Dispatcher.DispatchHandler = new undici.DecoratorHandler(given);
      const { balancer, pools } = serviceOf(origin.hostname);
      const poolOf = (address: string): Pool => {
        let pool = pools.get(address);
        if (pool === undefined) {
          pool = new undici.Pool(`${origin.protocol}//${address}`, {
            ...options.pool,
            ...(origin.protocol === 'https:' && { connect: { servername: origin.hostname } }),
          });
          pools.set(address, pool);
        }
        return pool;
      };
      const replayable =
        opts.body === null ||
        opts.body === undefined ||
        typeof opts.body === 'string' ||
        opts.body instanceof Uint8Array;
      const retries = IDEMPOTENT.has(opts.method) && replayable ? undefined : 0;
      const aborted = new AbortController();
      const headers = withHost(origin.host, opts.headers);
      let answered = false;
      balancer
        .call(
          (endpoint, _signal, load) =>
            new Promise<void>((resolve, reject) => {
              poolOf(endpoint.address).dispatch(
                { ...opts, origin: undefined, headers },
                {
                  onRequestStart: (controller, context) => {
                    // The caller aborts through this controller: the balancer then counts nothing.
                    handler.onRequestStart?.(abortsToo(controller, aborted), context);
                  },
                  onRequestUpgrade: (controller, statusCode, responseHeaders, socket) => {
                    answered = true;
                    resolve();
                    handler.onRequestUpgrade?.(controller, statusCode, responseHeaders, socket);
                  },
                  onResponseStart: (controller, statusCode, responseHeaders, statusMessage) => {
                    answered = true;
                    const report = responseHeaders[ORCA_HEADER];
                    if (typeof report === 'string') {
                      load(report);
                    }
                    if (statusCode >= 500) {
                      reject(new ServerError(statusCode));
                    } else {
                      resolve();
                    }
                    handler.onResponseStart?.(
                      controller,
                      statusCode,
                      responseHeaders,
                      statusMessage,
                    );
                  },
                  onResponseData: (controller, chunk) =>
                    handler.onResponseData?.(controller, chunk),
                  onResponseEnd: (controller, trailers) =>
                    handler.onResponseEnd?.(controller, trailers),
                  onResponseError: (controller, error) => {
                    if (answered) {
                      handler.onResponseError?.(controller, error); // Mid-body: the caller's to see.
                    } else {
                      reject(error); // Before any answer: the balancer may retry it elsewhere.
                    }
                  },
                },
              );
            }),
          {
            signal: aborted.signal,
            ...(retries !== undefined && { retries }),
            // A 5xx was passed on already: it counts against its endpoint, and is not sent again.
            retryable: (error) => !(error instanceof ServerError) && isRetryable(error),
          },
        )
        .catch((error: unknown) => {
          if (!answered) {
            handler.onResponseError?.(
              undefined as unknown as Dispatcher.DispatchController,
              error instanceof Error ? error : new Error(String(error)),
            );
          }
        });
      return true;
    }) as GsrInterceptor;

  interceptor.balancer = (service) => serviceOf(service).balancer;
  Object.defineProperty(interceptor, 'pools', {
    get: () => [...services.values()].reduce((sum, service) => sum + service.pools.size, 0),
  });
  interceptor.close = async () => {
    const closing = [...services.values()].flatMap(({ balancer, pools }) => {
      balancer.close();
      return [...pools.values()].map((pool) => pool.close().catch(() => undefined));
    });
    services.clear();
    await Promise.all(closing);
  };
  return interceptor;
}

/** undici's retryable rule, as the balancer's default: not reached, so safe to send elsewhere. */
function isRetryable(error: unknown): boolean {
  return isRetryableError(error);
}

/** Whether a host is a gsr service, by the option or the default rule. */
function serviceRule(
  registry: Registry,
  services: GsrInterceptorOptions['services'],
): (host: string) => boolean {
  if (typeof services === 'function') {
    return services;
  }
  if (services !== undefined) {
    const names = new Set(services);
    return (host) => names.has(host);
  }
  return (host) => {
    if (host === 'localhost' || host.includes('.') || isIP(host) !== 0) {
      return false;
    }
    try {
      registry.validateService(host);
      return true;
    } catch {
      return false;
    }
  };
}

/** `controller`, whose `abort` also aborts `aborted` first: the caller gave up, nobody failed. */
function abortsToo(
  controller: Dispatcher.DispatchController,
  aborted: AbortController,
): Dispatcher.DispatchController {
  return new Proxy(controller, {
    get(target, property, receiver) {
      if (property === 'abort') {
        return (reason: Error) => {
          aborted.abort(reason);
          target.abort(reason);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value.bind(target) as unknown) : value;
    },
  });
}

/** `headers` with `host` set to the service's name unless they have one (virtual hosting works). */
function withHost(
  host: string,
  headers: Dispatcher.DispatchOptions['headers'],
): IncomingHttpHeaders | string[] {
  if (headers === null || headers === undefined) {
    return { host };
  }
  if (Array.isArray(headers)) {
    const flat = headers;
    for (let i = 0; i < flat.length; i += 2) {
      if (String(flat[i]).toLowerCase() === 'host') {
        return flat;
      }
    }
    return ['host', host, ...flat];
  }
  const entries: [string, string | string[] | undefined][] =
    Symbol.iterator in headers
      ? [...(headers as Iterable<[string, string | string[] | undefined]>)]
      : Object.entries(headers);
  const object: IncomingHttpHeaders = {};
  for (const [key, value] of entries) {
    object[key] = value;
  }
  if (!Object.keys(object).some((key) => key.toLowerCase() === 'host')) {
    object.host = host;
  }
  return object;
}

/** The undici package, or a PreconditionError saying to install it. */
function loadUndici(): typeof import('undici') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('undici') as typeof import('undici');
  } catch {
    throw new PreconditionError(
      'load gsr/undici',
      'it needs the package undici (7): npm install undici',
    );
  }
}
