import { circuitBreaker, ConsecutiveBreaker, handleWhen, noop, retry } from 'cockatiel';
import { Etcd3, isRecoverableError } from 'etcd3';
import type { GsrConfig } from '../../config/GsrConfig';
import type { CallTracker } from './CallTracker';
import { readTlsFiles } from '../readTlsFiles';
import { RETRY_INITIAL_DELAY_MS, RETRY_MAX_DELAY_MS } from '../retryBackoff';

/**
 * Keepalive pings find a dead connection (a partition, a member that vanished without a FIN) while a
 * watch or keepalive stream is open, without a single etcd request: health$ relies on them while a
 * stream is open, so that a partition is noticed within ~9 s. etcd's default
 * `--grpc-keepalive-min-time` is 5 s; pinging more often gets the connection closed with "too many
 * pings".
 */
const KEEPALIVE_TIME_MS = 6_000;
const KEEPALIVE_TIMEOUT_MS = 3_000;
/** With several members, one that failed three calls in a row is skipped for this long. */
const MEMBER_HALF_OPEN_AFTER_MS = 1000;

/**
 * Builds the etcd3 client behind {@link Etcd3Port}. It does no I/O but read TLS files.
 *
 * Fault handling: one failed call moves on to the next member (with several members, a circuit breaker
 * skips one that keeps failing, for a second at a time); gsr retries over time itself, with backoff and
 * logging, where it knows what the call is for.
 * @internal
 */
export function createEtcdClient(config: GsrConfig, calls: CallTracker): Etcd3 {
  const hosts = [...config.etcdEndpoints];
  const requestTimeoutMs = config.requestTimeoutSeconds * 1000;
  const tls = readTlsFiles(config);
  return new Etcd3({
    hosts,
    ...(tls && {
      credentials: {
        // etcd3 types this as required, but grpc-js reads `null` as "the system's root certificates".
        rootCertificate: tls.ca ?? (null as unknown as Buffer),
        ...(tls.cert && tls.key && { certChain: tls.cert, privateKey: tls.key }),
      },
    }),
    ...(config.etcdUsername !== undefined && {
      auth: { username: config.etcdUsername, password: config.etcdPassword ?? '' },
    }),
    // Streams (watch, lease keepalive) live for as long as they are needed: no deadline.
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + requestTimeoutMs },
    grpcOptions: {
      // gRPC's own reconnect backoff grows to 120 s: held to gsr's, so that a recovered etcd is
      // noticed in seconds rather than minutes.
      'grpc.initial_reconnect_backoff_ms': RETRY_INITIAL_DELAY_MS,
      'grpc.max_reconnect_backoff_ms': RETRY_MAX_DELAY_MS,
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      // A large service's one range get can pass grpc-js's 4 MiB default.
      'grpc.max_receive_message_length': -1,
      // etcd3 hands these options to grpc-js's client constructors, which take interceptors too.
      ...({ interceptors: [calls.interceptor] } as object),
    },
    faultHandling: {
      host: () =>
        hosts.length > 1
          ? circuitBreaker(handleWhen(isRecoverableError), {
              halfOpenAfter: MEMBER_HALF_OPEN_AFTER_MS,
              breaker: new ConsecutiveBreaker(3),
            })
          : noop,
      global: retry(handleWhen(isRecoverableError), { maxAttempts: hosts.length - 1 }),
    },
  });
}
