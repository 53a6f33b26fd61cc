import { ExponentialBackoff } from 'cockatiel';

/** The first delay after a transient etcd failure, in milliseconds. @internal */
export const RETRY_INITIAL_DELAY_MS = 100;

/**
 * The longest delay between two attempts, in milliseconds: a recovered etcd is noticed within about two
 * seconds (gRPC's own reconnect backoff grows to 120 s). @internal
 */
export const RETRY_MAX_DELAY_MS = 2000;

/**
 * The one backoff policy of every etcd retry in gsr — connect, watches, leases and writes, and etcd3's
 * own watch reconnection: exponential with decorrelated jitter (cockatiel's default generator), from
 * {@link RETRY_INITIAL_DELAY_MS} to {@link RETRY_MAX_DELAY_MS}, so that many clients recovering from one
 * outage do not retry in step.
 * @internal
 */
export const retryBackoff = new ExponentialBackoff({
  initialDelay: RETRY_INITIAL_DELAY_MS,
  maxDelay: RETRY_MAX_DELAY_MS,
});
