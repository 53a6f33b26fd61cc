import type { GsrConfig } from './GsrConfig';
import type { ConfigFormat } from './configFormats';

/** One setting in convict's schema terms, with gsr's format names. @internal */
interface ConfigSetting {
  readonly env: `GSR_${string}`;
  readonly doc: string;
  readonly format: ConfigFormat;
  /** `null` for a setting that is off (absent) unless given, or worked out at start (`shownDefault`). */
  readonly default: string | number | boolean | null;
  /** How `--help` shows a default worked out at start. */
  readonly shownDefault?: string;
  readonly nullable?: boolean;
  /** convict masks it in `toString()`; gsr never echoes it in an error or `gsr config`. */
  readonly sensitive?: boolean;
}

/**
 * gsr's convict schema: the single source of every `GSR_*` variable, its option name (the key), default,
 * format, documentation and sensitivity. The Go gsr's variables and defaults, plus TLS CA and etcd
 * authentication. `--help`, `gsr config` and the README's table (checked by a spec) come from it.
 * @internal
 */
export const configSchema: { readonly [K in keyof GsrConfig]-?: ConfigSetting } = {
  etcdEndpoints: {
    env: 'GSR_ETCD_ENDPOINTS',
    doc: 'comma-separated etcd endpoints',
    format: 'gsr-endpoints',
    default: 'http://127.0.0.1:2379',
  },
  keyLayout: {
    env: 'GSR_KEY_LAYOUT',
    doc: "key layout: gsr, or etcd-naming (etcd's naming/endpoints, for grpc-go clients)",
    format: 'gsr-key-layout',
    default: 'gsr',
  },
  keyPrefix: {
    env: 'GSR_KEY_PREFIX',
    doc: 'prefix of every gsr key (under etcd-naming: none by default)',
    format: 'gsr-key-prefix',
    default: 'gsr/',
  },
  namingMetadata: {
    env: 'GSR_NAMING_METADATA',
    doc: 'under etcd-naming, metadata as a JSON string (safe for every grpc-go) or an object',
    format: 'gsr-naming-metadata',
    default: 'string',
  },
  connectTimeoutSeconds: {
    env: 'GSR_ETCD_CONNECT_TIMEOUT_SECONDS',
    doc: 'how long connect() keeps trying',
    format: 'gsr-seconds',
    default: 300,
  },
  waitForEtcd: {
    env: 'GSR_WAIT_FOR_ETCD',
    doc: 'connect() waits for etcd (up to the connect timeout) instead of starting without it',
    format: 'gsr-boolean',
    default: false,
  },
  dialTimeoutSeconds: {
    env: 'GSR_ETCD_DIAL_TIMEOUT_SECONDS',
    doc: 'deadline of one attempt to reach etcd',
    format: 'gsr-seconds',
    default: 1,
  },
  requestTimeoutSeconds: {
    env: 'GSR_ETCD_REQUEST_TIMEOUT_SECONDS',
    doc: 'deadline of each etcd request',
    format: 'gsr-seconds',
    default: 1,
  },
  useTls: {
    env: 'GSR_USE_TLS',
    doc: 'use TLS with a client certificate',
    format: 'gsr-boolean',
    default: false,
  },
  tlsCertPath: {
    env: 'GSR_TLS_CERT_PATH',
    doc: 'client certificate (PEM)',
    format: 'gsr-text',
    default: '/etc/gsr/server.pem',
  },
  tlsKeyPath: {
    env: 'GSR_TLS_KEY_PATH',
    doc: 'client private key (PEM)',
    format: 'gsr-text',
    default: '/etc/gsr/server.key',
  },
  tlsCaPath: {
    env: 'GSR_TLS_CA_PATH',
    doc: 'CA bundle to verify etcd',
    format: 'gsr-text',
    default: null,
    nullable: true,
  },
  etcdUsername: {
    env: 'GSR_ETCD_USERNAME',
    doc: 'etcd user',
    format: 'gsr-text',
    default: null,
    nullable: true,
  },
  etcdPassword: {
    env: 'GSR_ETCD_PASSWORD',
    doc: 'etcd password',
    format: 'gsr-text',
    default: null,
    nullable: true,
    sensitive: true,
  },
  logLevel: { env: 'GSR_LOG_LEVEL', doc: 'log verbosity', format: 'gsr-log-level', default: 0 },
  logMicroseconds: {
    env: 'GSR_LOG_MICROSECONDS',
    doc: 'microsecond timestamps',
    format: 'gsr-boolean',
    default: false,
  },
  logFileTrace: {
    env: 'GSR_LOG_FILE_TRACE',
    doc: 'source file and line in log records',
    format: 'gsr-boolean',
    default: false,
  },
  leaseSeconds: {
    env: 'GSR_LEASE_SECONDS',
    doc: 'TTL of registration leases',
    format: 'gsr-lease-seconds',
    default: 60,
  },
  drainDelayMs: {
    env: 'GSR_DRAIN_DELAY_MS',
    doc: 'how long drain() waits after etcd confirmed, for clients to see it',
    format: 'gsr-drain-delay-ms',
    default: 2000,
  },
  snapshotDir: {
    env: 'GSR_SNAPSHOT_DIR',
    doc: "where followed lists are kept, for a start while etcd is down ('' turns it off)",
    format: 'gsr-directory',
    default: null,
    shownDefault: '$XDG_CACHE_HOME/gsr or ~/.cache/gsr',
    nullable: true,
  },
  snapshotMaxAgeSeconds: {
    env: 'GSR_SNAPSHOT_MAX_AGE_SECONDS',
    doc: 'how old a snapshot may be and still be used',
    format: 'gsr-seconds',
    default: 604800,
  },
  protectionThreshold: {
    env: 'GSR_PROTECTION_THRESHOLD',
    doc: 'below this share of its instances, a service keeps those that vanished unplanned as the last resort (0: never)',
    format: 'gsr-share',
    default: 0.5,
  },
  stampWrites: {
    env: 'GSR_STAMP_WRITES',
    doc: "stamp each registration's write with its time, for readers' propagation histogram",
    format: 'gsr-boolean',
    default: false,
  },
  protectionSeconds: {
    env: 'GSR_PROTECTION_SECONDS',
    doc: 'how long an instance that vanished unplanned is kept as the last resort',
    format: 'gsr-seconds',
    default: 300,
  },
};
