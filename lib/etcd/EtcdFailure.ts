/**
 * The kinds of failure an {@link EtcdPort} reports, whatever etcd client is behind it:
 *
 * - `unavailable`: no answer, or no answer that says anything for good (unreachable, timed out, no
 *   leader, a broken stream, rate limited): the request may or may not have been applied;
 * - `auth-expired`: etcd no longer knows the session's token (it re-authenticates);
 * - `lease-not-found`: etcd answered that it does not know the lease;
 * - `unauthenticated`, `permission-denied`, `invalid`: etcd answered no, and will again;
 * - `closed`: the client was closed.
 * @internal
 */
export type EtcdFailureKind =
  | 'unavailable'
  | 'auth-expired'
  | 'lease-not-found'
  | 'unauthenticated'
  | 'permission-denied'
  | 'invalid'
  | 'closed';

/**
 * A failed etcd request, as an {@link EtcdPort} reports it: its kind, and what the client said (`cause`).
 * @internal
 */
export class EtcdFailure extends Error {
  override readonly name = 'EtcdFailure';

  constructor(
    readonly kind: EtcdFailureKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Whether `error` says etcd does not know a lease. @internal */
export function isLeaseNotFound(error: unknown): boolean {
  return error instanceof EtcdFailure && error.kind === 'lease-not-found';
}
