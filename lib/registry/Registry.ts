import type { Etcd3 } from 'etcd3';
import type { Logger } from 'winston';
import type { Environment, GsrConfig, GsrOptions } from '../config/GsrConfig';
import { loadConfig } from '../config/loadConfig';
import { createEtcdClient } from '../etcd/createEtcdClient';
import { waitForEtcd } from '../etcd/waitForEtcd';
import { createLogger } from '../logging/createLogger';

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
  #closed: Promise<void> | undefined;

  private constructor(client: Etcd3, config: GsrConfig, logger: Logger) {
    this.#client = client;
    this.config = config;
    this.#logger = logger;
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
    const { logger, env, ...settings } = options;
    const config = loadConfig(settings, env);
    const log = logger?.child({ library: 'gsr' }) ?? createLogger(config);
    const client = createEtcdClient(config);
    try {
      await waitForEtcd(client, config, log);
    } catch (error) {
      client.close();
      throw error;
    }
    return new Registry(client, config, log);
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
    this.#client.close();
    this.#logger.info('registry closed');
    await Promise.resolve();
  }
}
