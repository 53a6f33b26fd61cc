import { hasBrand } from './hasBrand';
import { messageOf } from './messageOf';

/**
 * A one-off request could not be served because etcd did not answer in time (every member unreachable,
 * no leader, a timeout), or `close()` could not get etcd to confirm that registrations' keys were
 * deleted (`keys`). Live streams and registrations never fail with it: they retry.
 *
 * @example
 * ```ts
 * const list = await registry.endpoints('web').catch((e) => {
 *   if (isEtcdUnavailableError(e)) return lastKnown; // etcd is down: fall back to what you had
 *   throw e;
 * });
 * ```
 */
export class EtcdUnavailableError extends Error {
  /** Always `'EtcdUnavailableError'`, whichever copy of gsr made it. */
  override readonly name = 'EtcdUnavailableError';
  /** The brand {@link isEtcdUnavailableError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isEtcdUnavailableError = true;

  constructor(
    /** What was asked, e.g. `list endpoints of "web"`. */
    readonly operation: string,
    /** The error etcd3 reported. */
    override readonly cause: unknown,
    /**
     * The keys left as they were: for `close()`, the registrations' keys etcd did not confirm deleted
     * (they expire with their lease).
     */
    readonly keys: readonly string[] = [],
  ) {
    super(`etcd is unavailable; could not ${operation}: ${reasonOf(cause)}`, { cause });
  }
}

/** What etcd's client said, once: through the causes of nested unavailability (a close that could not unregister). */
function reasonOf(cause: unknown): string {
  let innermost = cause;
  while (isEtcdUnavailableError(innermost) && innermost.cause !== undefined) {
    innermost = innermost.cause;
  }
  return messageOf(innermost);
}

/** Whether `error` is an {@link EtcdUnavailableError}. */
export const isEtcdUnavailableError = (error: unknown): error is EtcdUnavailableError =>
  hasBrand(error, 'isEtcdUnavailableError');
