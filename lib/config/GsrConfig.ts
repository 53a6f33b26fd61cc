/**
 * The validated, normalised configuration gsr runs with. Every field comes from a `GSR_*` environment
 * variable (named in its description) unless given in code.
 *
 * @see {@link loadConfig}
 */
export interface GsrConfig {
  /**
   * etcd endpoints, normalised to `scheme://host:port`. `GSR_ETCD_ENDPOINTS`, comma-separated; an entry
   * without a scheme gets `http://` (`https://` when {@link GsrConfig.useTls}), one without a port `:2379`.
   * @default ['http://127.0.0.1:2379']
   */
  readonly etcdEndpoints: readonly string[];
  /**
   * Where endpoints live in etcd: `gsr` (the Go gsr's `<prefix>services/<service>/<address>`) or
   * `etcd-naming` (etcd's own naming layout, `<prefix><target>/<address>` with etcd's JSON value, which
   * grpc-go clients on etcd's resolver read). `GSR_KEY_LAYOUT`.
   * @default 'gsr'
   */
  readonly keyLayout: 'gsr' | 'etcd-naming';
  /**
   * Prefix of every gsr key, ending in exactly one `/`; under `etcd-naming` it may be empty (the root of
   * the keyspace, where Go's endpoints manager names keys), which is its default there. `GSR_KEY_PREFIX`.
   * @default 'gsr/' ('' under etcd-naming)
   */
  readonly keyPrefix: string;
  /**
   * Under `etcd-naming`, how metadata goes into etcd's `Metadata` field: `string` (the metadata's JSON
   * as a JSON string, which every grpc-go version takes) or `object` (the object itself, which
   * grpc-go before 1.42 cannot hash and panics on, with round_robin). `GSR_NAMING_METADATA`.
   * @default 'string'
   */
  readonly namingMetadata: 'string' | 'object';
  /**
   * How long `Registry.connect()` keeps trying to reach etcd. `GSR_ETCD_CONNECT_TIMEOUT_SECONDS`.
   * @default 300
   */
  readonly connectTimeoutSeconds: number;
  /**
   * Whether `Registry.connect()` waits until etcd answers (up to {@link GsrConfig.connectTimeoutSeconds},
   * then rejects), as those who want to fail at start choose. By default it resolves within a second
   * whether or not etcd answers: lists and registrations wait for etcd on their own, and a process that
   * starts during an etcd outage still starts. `GSR_WAIT_FOR_ETCD`.
   * @default false
   */
  readonly waitForEtcd: boolean;
  /**
   * Deadline of one attempt to reach etcd. `GSR_ETCD_DIAL_TIMEOUT_SECONDS`.
   * @default 1
   */
  readonly dialTimeoutSeconds: number;
  /**
   * Deadline of each etcd request once connected. `GSR_ETCD_REQUEST_TIMEOUT_SECONDS`.
   * @default 1
   */
  readonly requestTimeoutSeconds: number;
  /**
   * Talk to etcd over TLS with a client certificate. `GSR_USE_TLS`.
   * @default false
   */
  readonly useTls: boolean;
  /**
   * Client certificate (PEM), read when {@link GsrConfig.useTls}. `GSR_TLS_CERT_PATH`.
   * @default '/etc/gsr/server.pem'
   */
  readonly tlsCertPath: string;
  /**
   * Client certificate's private key (PEM), read when {@link GsrConfig.useTls}. `GSR_TLS_KEY_PATH`.
   * @default '/etc/gsr/server.key'
   */
  readonly tlsKeyPath: string;
  /**
   * CA bundle (PEM) that etcd's certificate must chain to. `GSR_TLS_CA_PATH`.
   * @default undefined (the system's root certificates)
   */
  readonly tlsCaPath: string | undefined;
  /**
   * etcd user name, for etcd authentication. `GSR_ETCD_USERNAME`.
   * @default undefined (no authentication)
   */
  readonly etcdUsername: string | undefined;
  /**
   * etcd password, required with {@link GsrConfig.etcdUsername}. `GSR_ETCD_PASSWORD`.
   * @default undefined
   */
  readonly etcdPassword: string | undefined;
  /**
   * Verbosity of gsr's own logger: 0 errors and warnings (etcd lost and back, a lease lost, a key
   * written again, a wait that goes on), 1 info, 2 debug, 3 and above everything.
   * `GSR_LOG_LEVEL`.
   * @default 0
   */
  readonly logLevel: number;
  /**
   * Microsecond timestamps in log records. `GSR_LOG_MICROSECONDS`.
   * @default false
   */
  readonly logMicroseconds: boolean;
  /**
   * Source file and line in each log record. `GSR_LOG_FILE_TRACE`.
   * @default false
   */
  readonly logFileTrace: boolean;
  /**
   * TTL, in seconds, of the lease that registrations are bound to. `GSR_LEASE_SECONDS`.
   * @default 60
   */
  readonly leaseSeconds: number;
  /**
   * How long `registry.drain()` waits, once etcd confirmed every key draining, before it resolves: long
   * enough for clients to see it (a watch hop, a few milliseconds on a healthy cluster) and to finish
   * picking from the list they had. `GSR_DRAIN_DELAY_MS`.
   * @default 2000
   */
  readonly drainDelayMs: number;
  /**
   * Where the lists a process follows are kept on disk, so that a process starting while etcd is down
   * calls what it knew (see the README's "When etcd is down"); shared by the processes of a user that
   * use the same etcd and prefix, and `''` turns it off. Read as an absolute path. A directory gsr may
   * not write is read only. `GSR_SNAPSHOT_DIR`.
   * @default `$XDG_CACHE_HOME/gsr`, else `~/.cache/gsr`
   */
  readonly snapshotDir: string;
  /** How old a snapshot may be and still be used. `GSR_SNAPSHOT_MAX_AGE_SECONDS`. @default 604800 */
  readonly snapshotMaxAgeSeconds: number;
  /**
   * Unplanned departures: when a key vanishes without its instance saying it was leaving (a lease that
   * expired while the instance was cut off from etcd, a delete by someone else) and the instances left
   * are fewer than this share of those plus the ones that vanished so within `protectionSeconds`, lists
   * keep the vanished ones as `'lost'`, the last resort. `0` turns it off. A planned departure
   * (unregister, `close()`) is never kept. `GSR_PROTECTION_THRESHOLD`.
   * @default 0.5
   */
  readonly protectionThreshold: number;
  /** How long an unplanned departure is kept as `'lost'`. `GSR_PROTECTION_SECONDS`. @default 300 */
  readonly protectionSeconds: number;
  /**
   * Whether each registration's write carries its time (epoch ms, `"gsr.written"` in its metadata, which
   * gsr's readers take out again), so that registries that follow the service record how long it took
   * to arrive (the `gsr.discovery.propagation` histogram). Off by default: the Go gsr and grpc-go
   * readers would see the stamp in the metadata. `GSR_STAMP_WRITES`.
   * @default false
   */
  readonly stampWrites: boolean;
}

/**
 * Configuration given in code. Each option wins over its `GSR_*` environment variable.
 *
 * @example
 * ```ts
 * const registry = await Registry.connect({ etcdEndpoints: ['10.0.0.5:2379'], leaseSeconds: 10 });
 * ```
 */
export type GsrOptions = Partial<Omit<GsrConfig, 'etcdEndpoints'>> & {
  /** etcd endpoints, as an array or a comma-separated string. See {@link GsrConfig.etcdEndpoints}. */
  readonly etcdEndpoints?: string | readonly string[];
};

/** Environment variables, as `process.env` holds them. */
export type Environment = Readonly<Record<string, string | undefined>>;
