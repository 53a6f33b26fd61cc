/**
 * The kinds of failure an {@link EtcdPort} reports, whatever etcd client is behind it:
 *
 * - `unavailable`: no answer that says anything for good (unreachable, refused or reset, no leader, a
 *   broken stream, rate limited): the request may or may not have been applied;
 * - `late`: no answer within the request's deadline: etcd may be slow, or gone, or this process too busy
 *   to read the answer in time; it may or may not have been applied. Alone it proves no loss;
 * - `no-space`: etcd answered that its space quota is exhausted (the NOSPACE alarm, which anyone who
 *   can write can trigger): no write or lease grant succeeds until an operator frees space and disarms
 *   the alarm; reads and deletes still do;
 * - `auth-expired`: etcd no longer knows the session's token (it re-authenticates);
 * - `lease-not-found`: etcd answered that it does not know the lease;
 * - `unauthenticated`, `permission-denied`, `invalid`: etcd answered no, and will again;
 * - `closed`: the client was closed.
 * @internal
 */
export type EtcdFailureKind =
  | 'unavailable'
  | 'late'
  | 'no-space'
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

/** Whether `error` says etcd gave no answer within the deadline (slow, or gone, or this process busy). @internal */
export function isLate(error: unknown): boolean {
  return error instanceof EtcdFailure && error.kind === 'late';
}

/** Whether `error` says etcd's space quota is exhausted (the NOSPACE alarm). @internal */
export function isNoSpace(error: unknown): boolean {
  return error instanceof EtcdFailure && error.kind === 'no-space';
}
