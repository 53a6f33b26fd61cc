import { ExponentialBackoff } from 'cockatiel';
import type { Etcd3 } from 'etcd3';
import type { Observable } from 'rxjs';
import type { Logger } from 'winston';
import type { Environment, GsrConfig, GsrOptions } from '../config/GsrConfig';
import { loadConfig } from '../config/loadConfig';
import { Discovery } from '../discovery/Discovery';
import type { Endpoint } from '../endpoint/Endpoint';
import { createEtcdClient } from '../etcd/createEtcdClient';
import { waitForEtcd } from '../etcd/waitForEtcd';
import { KeyLayout } from '../keys/KeyLayout';
import { ConfigError } from '../errors/ConfigError';
import { createLogger } from '../logging/createLogger';
import { ConnectionHealth } from './ConnectionHealth';

/** How long a stream nobody subscribes to any more keeps its etcd watch, by default. */
const DEFAULT_WATCH_GRACE_PERIOD_MS = 1000;

/** Options of {@link Registry.connect}: any {@link GsrOptions}, plus a logger and an environment. */
export interface ConnectOptions extends GsrOptions {
  /**
   * A winston logger to write to (gsr logs through a child of it). By default gsr creates a stderr
   * logger honouring GSR_LOG_LEVEL, GSR_LOG_MICROSECONDS and GSR_LOG_FILE_TRACE.
   */
  readonly logger?: Logger;
  /**
   * Where to read `GSR_*` variables from.
   * @default process.env
   */
  readonly env?: Environment;
  /**
   * How long a stream of {@link Registry.endpoints$} or {@link Registry.services$} keeps its etcd watch
   * after its last subscriber left, so that a quick re-subscription finds it warm. `0` releases it as
   * soon as the last subscriber leaves.
   * @default 1000
   */
  readonly watchGracePeriodMs?: number;
}

/**
 * A connection to the gsr service registry in etcd: discover services' endpoints and register your own.
 *
 * @example
 * ```ts
 * import { Registry } from 'gsr';
 *
 * const registry = await Registry.connect(); // configured by GSR_* environment variables
 * // ... discover and register ...
 * await registry.close();
 * ```
 */
export class Registry {
  /** The configuration this registry runs with, after validation and normalisation. */
  readonly config: GsrConfig;
  readonly #client: Etcd3;
  readonly #logger: Logger;
  readonly #health: ConnectionHealth;
  readonly #discovery: Discovery;
  #closed: Promise<void> | undefined;

  private constructor(client: Etcd3, config: GsrConfig, logger: Logger, gracePeriodMs: number) {
    this.#client = client;
    this.config = config;
    this.#logger = logger;
    this.#health = new ConnectionHealth(logger);
    const layout = new KeyLayout(config.keyPrefix);
    this.#discovery = new Discovery(
      {
        client,
        logger,
        health: this.#health,
        username: config.etcdUsername,
        // Decorrelated jitter, capped so that a recovered etcd is noticed within about two seconds.
        backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }),
      },
      layout,
      gracePeriodMs,
    );
  }

  /**
   * Connects to etcd, like the Go gsr's `gsr.New()` but stricter: it reads the configuration (the
   * environment at call time; `options` win), rejects at once with a `ConfigError` on any invalid value,
   * then retries with exponential backoff until etcd answers a request or
   * `GSR_ETCD_CONNECT_TIMEOUT_SECONDS` runs out (`ConnectError`). Bad credentials or a user without
   * access to the key prefix reject at once (`AuthenticationError`, `PermissionDeniedError`).
   *
   * @example
   * ```ts
   * const registry = await Registry.connect({ connectTimeoutSeconds: 10 });
   * console.log(`connected to ${registry.config.etcdEndpoints.join(', ')}`);
   * ```
   */
  static async connect(options: ConnectOptions = {}): Promise<Registry> {
    const { logger, env, watchGracePeriodMs, ...settings } = options;
    const gracePeriodMs = watchGracePeriodMs ?? DEFAULT_WATCH_GRACE_PERIOD_MS;
    if (!Number.isFinite(gracePeriodMs) || gracePeriodMs < 0) {
      throw new ConfigError([
        {
          variable: 'watchGracePeriodMs',
          value: watchGracePeriodMs,
          reason: 'expected a number of milliseconds of at least 0',
        },
      ]);
    }
    const config = loadConfig(settings, env);
    const log = logger?.child({ library: 'gsr' }) ?? createLogger(config);
    const client = createEtcdClient(config);
    try {
      await waitForEtcd(client, config, log);
    } catch (error) {
      client.close();
      throw error;
    }
    return new Registry(client, config, log, gracePeriodMs);
  }

  /**
   * The live list of a service's endpoints, sorted by address: a hot, shared Observable.
   *
   * - Its first value is the current list (even when empty), read with one range get of exactly
   *   `<prefix>services/<service>/`; later values come from an etcd watch that starts right after that
   *   get's revision, so that no change is lost or doubled. Each value is a new frozen array, emitted
   *   only when an endpoint came, went, or changed its metadata.
   * - Every subscriber of one service shares one etcd watch. A late subscriber gets the current list at
   *   once, without asking etcd. The watch is cancelled once the last subscriber has been gone for
   *   `watchGracePeriodMs` (1 s by default).
   * - It rides out etcd trouble (lost connection, leader change, restart, compaction) without erroring:
   *   it keeps the last list, retries with backoff, and catches up. It errors only on what retrying
   *   cannot fix (`PermissionDeniedError`, `AuthenticationError`, or a `ValidationError` for a bad
   *   service name), and completes when the registry is closed.
   * - A malformed key or non-JSON metadata found in etcd is logged and skipped, never thrown.
   *
   * @example
   * ```ts
   * import { filter, map } from 'rxjs';
   *
   * registry
   *   .endpoints$('data-access')
   *   .pipe(
   *     filter((endpoints) => endpoints.length > 0),
   *     map((endpoints) => endpoints[Math.floor(Math.random() * endpoints.length)]),
   *   )
   *   .subscribe((endpoint) => console.log(`next request goes to ${endpoint.address}`));
   * ```
   * @see {@link Registry.endpoints} for a one-off list.
   */
  endpoints$(service: string): Observable<readonly Endpoint[]> {
    return this.#discovery.endpoints$(service);
  }

  /**
   * The live, sorted names of the services that have at least one endpoint, under the same rules as
   * {@link Registry.endpoints$} (one shared watch of `<prefix>services/`).
   *
   * @example
   * ```ts
   * registry.services$().subscribe((names) => console.log(`services: ${names.join(', ')}`));
   * ```
   */
  services$(): Observable<readonly string[]> {
    return this.#discovery.services$();
  }

  /**
   * The endpoints of a service, once, like the Go gsr's `Endpoints()`: from the live cache when a stream
   * of that service is subscribed, else with one range get. Unlike the Go gsr it does not swallow
   * errors: it rejects with `EtcdUnavailableError`, `PermissionDeniedError`, `ValidationError` or
   * `RegistryClosedError`.
   *
   * @example
   * ```ts
   * for (const endpoint of await registry.endpoints('data-access')) {
   *   console.log(endpoint.address);
   * }
   * ```
   */
  endpoints(service: string): Promise<readonly Endpoint[]> {
    return this.#discovery.endpoints(service);
  }

  /**
   * Releases everything the registry holds (the etcd client and its connections) and resolves when
   * done; afterwards the process can exit by itself. Calling it again returns the same promise.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void registry.close());
   * ```
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#discovery.close();
    this.#health.close();
    this.#client.close();
    this.#logger.info('registry closed');
    await Promise.resolve();
  }
}
