import { AuthenticationError } from '../errors/AuthenticationError';
import { EtcdRefusedError } from '../errors/EtcdRefusedError';
import { PermissionDeniedError } from '../errors/PermissionDeniedError';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import { EtcdUnavailableError } from '../errors/EtcdUnavailableError';
import { TlsError } from '../errors/TlsError';
import { EtcdFailure } from './EtcdFailure';
import { isTlsFailure } from './isTlsFailure';

/** What an etcd operation was doing, for the typed error. @internal */
export interface EtcdOperation {
  /** The key or prefix it touched. */
  readonly key: string;
  /** A short description, e.g. `watch gsr/services/web/`. */
  readonly description: string;
  /**
   * While connecting, the endpoints being connected to: a failed TLS handshake then fails the same
   * way every time (a certificate), and is refused at once rather than waited out.
   */
  readonly connectingTo?: readonly string[];
}

/**
 * What to do about a failed etcd request:
 *
 * - `retry`: it may succeed later (etcd unreachable, a timeout, a leader change, an expired token);
 * - `lease-lost`: etcd does not know the lease any more: replace it, and write again on the new one;
 * - `refused`: etcd answered no and will again (credentials, permission, a request too large): stop, and
 *   tell the user with `error`;
 * - `fatal`: nothing etcd said: the registry is closed, or a bug; stop with `error`.
 * @internal
 */
export type Verdict =
  | { readonly kind: 'retry' }
  | { readonly kind: 'lease-lost' }
  | { readonly kind: 'refused'; readonly error: Error }
  | { readonly kind: 'fatal'; readonly error: Error };

const RETRY: Verdict = Object.freeze({ kind: 'retry' });
const LEASE_LOST: Verdict = Object.freeze({ kind: 'lease-lost' });

/**
 * The one place gsr decides what a failed etcd request means; every caller acts on the verdict.
 *
 * @param username The etcd user gsr authenticates as, for the message of an `AuthenticationError`.
 * @internal
 */
export function classifyEtcdError(
  error: unknown,
  operation: EtcdOperation,
  username: string | undefined,
): Verdict {
  if (!(error instanceof EtcdFailure)) {
    // A typed gsr error already, or a bug: nothing retrying could fix.
    return { kind: 'fatal', error: error instanceof Error ? error : new Error(String(error)) };
  }
  if (operation.connectingTo !== undefined && isTlsFailure(error)) {
    return { kind: 'refused', error: new TlsError(operation.connectingTo, error) };
  }
  switch (error.kind) {
    case 'unavailable':
    case 'late':
    case 'no-space':
    case 'auth-expired':
      return RETRY;
    case 'lease-not-found':
      return LEASE_LOST;
    case 'unauthenticated':
      return { kind: 'refused', error: new AuthenticationError(username, error.cause ?? error) };
    case 'permission-denied':
      return {
        kind: 'refused',
        error: new PermissionDeniedError(
          operation.description,
          operation.key,
          error.cause ?? error,
        ),
      };
    case 'invalid':
      return {
        kind: 'refused',
        error: new EtcdRefusedError(operation.description, operation.key, error.cause ?? error),
      };
    case 'closed':
      return { kind: 'fatal', error: new RegistryClosedError(operation.description) };
  }
}

/**
 * What a request made once (not retried) rejects with: the verdict's typed error when it has one, else
 * an `EtcdUnavailableError` saying what was being done.
 * @internal
 */
export function oneOffError(
  error: unknown,
  operation: EtcdOperation,
  username: string | undefined,
): Error {
  const verdict = classifyEtcdError(error, operation, username);
  return 'error' in verdict
    ? verdict.error
    : new EtcdUnavailableError(operation.description, error);
}
