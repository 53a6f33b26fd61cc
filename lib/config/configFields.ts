import type { GsrConfig } from './GsrConfig';
import { normalizeKeyPrefix } from './normalizeKeyPrefix';
import { parseEtcdEndpoints } from './parseEtcdEndpoints';
import {
  boolean,
  nonEmptyString,
  nonNegativeInteger,
  optionalString,
  positiveInteger,
  positiveSeconds,
} from './valueParsers';

/** @internal */
export interface ConfigField<T> {
  readonly env: `GSR_${string}`;
  readonly doc: string;
  /** Default in the same form a caller could pass; `null` when the setting is off by default. */
  readonly default: string | number | boolean | null;
  readonly parse: (raw: unknown) => T;
  /** Never echo the value in an error message. */
  readonly sensitive?: boolean;
}

/**
 * Every setting gsr reads: the Go gsr's variables and defaults, plus TLS CA and etcd authentication.
 * This table is the single source for the convict schema, the README's table and error messages.
 * @internal
 */
export const configFields: { readonly [K in keyof GsrConfig]: ConfigField<GsrConfig[K]> } = {
  etcdEndpoints: {
    env: 'GSR_ETCD_ENDPOINTS',
    doc: 'comma-separated etcd endpoints',
    default: 'http://127.0.0.1:2379',
    parse: (raw) => parseEtcdEndpoints(raw),
  },
  keyPrefix: {
    env: 'GSR_KEY_PREFIX',
    doc: 'prefix of every gsr key',
    default: 'gsr/',
    parse: normalizeKeyPrefix,
  },
  connectTimeoutSeconds: {
    env: 'GSR_ETCD_CONNECT_TIMEOUT_SECONDS',
    doc: 'how long connect() keeps trying',
    default: 300,
    parse: positiveSeconds,
  },
  dialTimeoutSeconds: {
    env: 'GSR_ETCD_DIAL_TIMEOUT_SECONDS',
    doc: 'deadline of one attempt to reach etcd',
    default: 1,
    parse: positiveSeconds,
  },
  requestTimeoutSeconds: {
    env: 'GSR_ETCD_REQUEST_TIMEOUT_SECONDS',
    doc: 'deadline of each etcd request',
    default: 1,
    parse: positiveSeconds,
  },
  useTls: {
    env: 'GSR_USE_TLS',
    doc: 'use TLS with a client certificate',
    default: false,
    parse: boolean,
  },
  tlsCertPath: {
    env: 'GSR_TLS_CERT_PATH',
    doc: 'client certificate (PEM)',
    default: '/etc/gsr/server.pem',
    parse: nonEmptyString,
  },
  tlsKeyPath: {
    env: 'GSR_TLS_KEY_PATH',
    doc: 'client private key (PEM)',
    default: '/etc/gsr/server.key',
    parse: nonEmptyString,
  },
  tlsCaPath: {
    env: 'GSR_TLS_CA_PATH',
    doc: 'CA bundle to verify etcd',
    default: null,
    parse: optionalString,
  },
  etcdUsername: {
    env: 'GSR_ETCD_USERNAME',
    doc: 'etcd user',
    default: null,
    parse: optionalString,
  },
  etcdPassword: {
    env: 'GSR_ETCD_PASSWORD',
    doc: 'etcd password',
    default: null,
    parse: optionalString,
    sensitive: true,
  },
  logLevel: { env: 'GSR_LOG_LEVEL', doc: 'log verbosity', default: 0, parse: nonNegativeInteger },
  logMicroseconds: {
    env: 'GSR_LOG_MICROSECONDS',
    doc: 'microsecond timestamps',
    default: false,
    parse: boolean,
  },
  logFileTrace: {
    env: 'GSR_LOG_FILE_TRACE',
    doc: 'source file and line in log records',
    default: false,
    parse: boolean,
  },
  leaseSeconds: {
    env: 'GSR_LEASE_SECONDS',
    doc: 'TTL of registration leases',
    default: 60,
    parse: positiveInteger,
  },
};
