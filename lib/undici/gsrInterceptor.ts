import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import type { Endpoint } from '../endpoint/Endpoint';
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
  /**
   * The options of each service's `Balancer` (strategy, retries, outlier ejection, …). Its `locality`
   * is by default this process's own (`registry.locality()`, when the service's balancer is made at its
   * first request): the zone and service of its registration, for zone-aware routing.
   */
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
  const services = new Map<string, Service>();
  /**
   * Abort controllers of requests that ended unaborted, for the next requests: making one's signal
   * costs about 4 µs (Node makes it transferable), a fortieth of a request over loopback. None is
   * handed on with a listener left: the balancer removes its own when a call stops waiting.
   */
  const spare: AbortController[] = [];
  /** What each origin seen is: a gsr service's route, or `null` (another host). Bounded. */
  const routes = new Map<string, Route | null>();
  const serviceOf = (name: string): Service => {
    let service = services.get(name);
    if (service === undefined) {
      const given = options.balancer;
      const balancer = new Balancer(registry.endpoints$(name), {
        logger: registry.logger,
        ...given,
        // Where this process is, by default its own registration's zone and service: zone-aware.
        ...(given?.zone === undefined && {
          locality: { ...registry.locality(), ...given?.locality },
        }),
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
  const routeOf = (origin: string | URL): Route | null => {
    const key = String(origin);
    let route = routes.get(key);
    if (route === undefined) {
      const url = new URL(key);
      route = isService(url.hostname)
        ? {
            service: url.hostname,
            host: url.host,
            protocol: url.protocol,
            poolOf: (address) => {
              const { pools } = serviceOf(url.hostname);
              let pool = pools.get(address);
              if (pool === undefined) {
                pool = new undici.Pool(`${url.protocol}//${address}`, {
                  ...options.pool,
                  ...(url.protocol === 'https:' && { connect: { servername: url.hostname } }),
                });
                pools.set(address, pool);
              }
              return pool;
            },
          }
        : null;
      if (routes.size >= MAX_ROUTES) {
        routes.clear(); // A client that dials endless hosts costs a bounded map.
      }
      routes.set(key, route);
    }
    return route;
  };

  const interceptor = ((dispatch: Dispatcher.Dispatch): Dispatcher.Dispatch =>
    (opts, given) => {
      const route = opts.origin === undefined ? null : routeOf(opts.origin);
      if (route === null) {
        return dispatch(opts, given);
      }
      const request = new Request(
        spare.pop() ?? new AbortController(),
        route,
        { ...opts, origin: undefined, headers: withHost(route.host, opts.headers) },
        given,
      );
      const replayable =
        opts.body === null ||
        opts.body === undefined ||
        typeof opts.body === 'string' ||
        opts.body instanceof Uint8Array;
      serviceOf(route.service)
        .balancer.call(
          request.attempt,
          IDEMPOTENT.has(opts.method) && replayable
            ? { signal: request.aborted.signal, retryable }
            : { signal: request.aborted.signal, retryable, retries: 0 },
        )
        .catch((error: unknown) => request.failed(error))
        .finally(() => {
          if (!request.aborted.signal.aborted && spare.length < MAX_SPARE) {
            spare.push(request.aborted);
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
    routes.clear();
    await Promise.all(closing);
  };
  return interceptor;
}

/** The controller a request that never reached an endpoint ends with: nothing left to abort. */
const SETTLED: Dispatcher.DispatchController = Object.freeze({
  aborted: false,
  paused: false,
  reason: null,
  abort: () => undefined,
  pause: () => undefined,
  resume: () => undefined,
});

/** The most origins remembered (as gsr services or not) before the memory starts afresh. */
const MAX_ROUTES = 1024;
/** The most spare abort controllers kept. */
const MAX_SPARE = 256;

/** A service's balancer and its endpoints' pools. */
interface Service {
  readonly balancer: Balancer;
  readonly pools: Map<string, Pool>;
}

/** How an origin that names a gsr service is reached. */
interface Route {
  readonly service: string;
  /** `host[:port]` as the caller wrote it: the Host header. */
  readonly host: string;
  readonly protocol: string;
  poolOf(address: string): Pool;
}

/** A 5xx was passed on already: it counts against its endpoint, and is not sent again. */
function retryable(error: unknown): boolean {
  return !(error instanceof ServerError) && isRetryable(error);
}

/**
 * One request through the interceptor: each attempt (the balancer's retries) dispatches it to an
 * endpoint's pool, and settles the attempt when an answer starts (a 5xx as a failure) or fails before
 * one. The caller's handler sees one answer, or the last failure.
 */
class Request {
  #answered = false;

  constructor(
    /** Aborted when the caller aborts: the balancer then counts the attempt against nobody. */
    readonly aborted: AbortController,
    readonly route: Route,
    readonly opts: Dispatcher.DispatchOptions,
    readonly handler: Dispatcher.DispatchHandler,
  ) {
    /* eslint-disable @typescript-eslint/no-deprecated -- the older API is what fetch's handlers speak */
    this.#legacy = handler.onHeaders !== undefined;
    /* eslint-enable @typescript-eslint/no-deprecated */
  }

  /**
   * Whether the caller's handler speaks the older API (onHeaders, onData, …): fetch's does, and
   * compose hands it in wrapped to speak both. Each attempt then speaks it too, as the pool does
   * inside, so that raw headers pass through unconverted, as they would without the interceptor.
   */
  readonly #legacy: boolean;

  readonly attempt = (
    endpoint: Endpoint,
    _signal: AbortSignal,
    load: (report: string) => void,
  ): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.route
        .poolOf(endpoint.address)
        .dispatch(
          this.opts,
          this.#legacy
            ? new LegacyAttempt(this, resolve, reject, load)
            : new Attempt(this, resolve, reject, load),
        );
    });

  /** An attempt was answered: the rest of the response is the caller's. */
  answered(): void {
    this.#answered = true;
  }

  /** The balancer gave up (every attempt failed before an answer, or no endpoint came). */
  failed(error: unknown): void {
    if (this.#answered) {
      return;
    }
    const reason = error instanceof Error ? error : new Error(String(error));
    try {
      if (this.#legacy) {
        // eslint-disable-next-line @typescript-eslint/no-deprecated -- fetch's handlers speak it
        this.handler.onError?.(reason);
      } else {
        this.handler.onResponseError?.(SETTLED, reason);
      }
    } catch {
      // A handler that cannot take the error (undici's wrapper of one without onError rethrows it):
      // nothing else to tell, and the process must not end for it.
    }
  }

  get isAnswered(): boolean {
    return this.#answered;
  }
}

/** One attempt's handler: passes the answer on, and settles the attempt for the balancer. */
class Attempt implements Dispatcher.DispatchHandler {
  constructor(
    readonly request: Request,
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
    readonly load: (report: string) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.request.handler.onRequestStart?.(
      new CallerController(controller, this.request.aborted),
      context,
    );
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.request.answered();
    this.resolve();
    this.request.handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.request.answered();
    const report = headers[ORCA_HEADER];
    if (typeof report === 'string') {
      this.load(report);
    }
    if (statusCode >= 500) {
      this.reject(new ServerError(statusCode));
    } else {
      this.resolve();
    }
    this.request.handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.request.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.request.handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    if (this.request.isAnswered) {
      this.request.handler.onResponseError?.(controller, error); // Mid-body: the caller's to see.
    } else {
      this.reject(error); // Before any answer: the balancer may retry it elsewhere.
    }
  }
}

/* eslint-disable @typescript-eslint/no-deprecated -- the older API is what fetch's handlers speak */
/** One attempt's handler in the older API, for a caller's handler in it: raw headers pass through. */
class LegacyAttempt implements Dispatcher.DispatchHandler {
  constructor(
    readonly request: Request,
    readonly resolve: () => void,
    readonly reject: (error: unknown) => void,
    readonly load: (report: string) => void,
  ) {}

  onConnect(abort: (error?: Error) => void): void {
    this.request.handler.onConnect?.((reason?: Error) => {
      this.request.aborted.abort(reason);
      abort(reason);
    });
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.request.answered();
    this.resolve();
    this.request.handler.onUpgrade?.(statusCode, headers, socket);
  }

  onResponseStarted(): void {
    this.request.handler.onResponseStarted?.();
  }

  onHeaders(
    statusCode: number,
    headers: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    this.request.answered();
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as Buffer;
      if (
        name.length === ORCA_HEADER.length &&
        name.toString('latin1').toLowerCase() === ORCA_HEADER
      ) {
        this.load((headers[i + 1] as Buffer).toString('latin1'));
      }
    }
    if (statusCode >= 500) {
      this.reject(new ServerError(statusCode));
    } else {
      this.resolve();
    }
    return this.request.handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.request.handler.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.request.handler.onComplete?.(trailers);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.request.handler.onBodySent?.(chunkSize, totalBytesSent);
  }

  onError(error: Error): void {
    if (this.request.isAnswered) {
      this.request.handler.onError?.(error); // Mid-body: the caller's to see.
    } else {
      this.reject(error); // Before any answer: the balancer may retry it elsewhere.
    }
  }
}

/* eslint-enable @typescript-eslint/no-deprecated */

/** The attempt's controller as the caller holds it: its `abort` also tells the balancer. */
class CallerController implements Dispatcher.DispatchController {
  constructor(
    readonly controller: Dispatcher.DispatchController,
    readonly abortion: AbortController,
  ) {}

  get aborted(): boolean {
    return this.controller.aborted;
  }

  get paused(): boolean {
    return this.controller.paused;
  }

  get reason(): Error | null {
    return this.controller.reason;
  }

  get rawHeaders(): Dispatcher.DispatchController['rawHeaders'] {
    return this.controller.rawHeaders;
  }

  get rawTrailers(): Dispatcher.DispatchController['rawTrailers'] {
    return this.controller.rawTrailers;
  }

  abort(reason: Error): void {
    this.abortion.abort(reason);
    this.controller.abort(reason);
  }

  pause(): void {
    this.controller.pause();
  }

  resume(): void {
    this.controller.resume();
  }
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
  if (!(Symbol.iterator in headers)) {
    // fetch's own: a plain object with lower-case names.
    const plain = headers as IncomingHttpHeaders;
    return 'host' in plain || Object.keys(plain).some((key) => key.toLowerCase() === 'host')
      ? plain
      : { ...plain, host };
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
