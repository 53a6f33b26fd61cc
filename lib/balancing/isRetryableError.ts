/** Errors a call may be retried on another endpoint after: the endpoint was not reached. */
const NOT_REACHED = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);
/** gRPC's UNAVAILABLE: the call did not reach a server that could answer it. */
const GRPC_UNAVAILABLE = 14;

/**
 * A property of something thrown, read defensively: `undefined` when reading it throws (a getter, a
 * Proxy), so that classifying a failure never fails in its turn.
 */
function read(value: object, key: 'code' | 'cause' | 'details'): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/** The error and its causes (a `fetch` failure holds the socket's error as its `cause`). */
function* causes(error: unknown): Generator<object> {
  let current = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    yield current;
    current = read(current, 'cause');
  }
}

/**
 * Whether a failed call is safe to try again on another endpoint, by default: the connection was
 * refused, reset or timed out before an answer (Node's and undici's error codes, on the error or its
 * `cause`, as `fetch` reports them), or gRPC answered `UNAVAILABLE`. Anything else (an HTTP error the
 * caller threw, a timeout after the request was sent) may have had an effect: not retried.
 *
 * @example
 * ```ts
 * const balancer = new Balancer(registry.endpoints$('api'), {
 *   retryable: (error) => isRetryableError(error) || (error as { status?: number }).status === 503,
 * });
 * ```
 */
export function isRetryableError(error: unknown): boolean {
  for (const cause of causes(error)) {
    const code = read(cause, 'code');
    if (typeof code === 'string' && NOT_REACHED.has(code)) {
      return true;
    }
    if (code === GRPC_UNAVAILABLE && typeof read(cause, 'details') === 'string') {
      return true;
    }
  }
  return false;
}

/**
 * Whether a failed call found nothing listening (`ECONNREFUSED`): the endpoint is gone, and is ejected
 * at once rather than after several failures.
 * @internal
 */
export function isConnectionRefused(error: unknown): boolean {
  for (const cause of causes(error)) {
    if (read(cause, 'code') === 'ECONNREFUSED') {
      return true;
    }
  }
  return false;
}
