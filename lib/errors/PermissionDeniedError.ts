import { hasBrand } from './hasBrand';

/**
 * etcd denied an operation on a gsr key: the configured user has no role granting it on the key prefix.
 * Retrying cannot fix it, so streams and registrations error with it instead of retrying.
 *
 * @example
 * ```ts
 * registry.endpoints$('web').subscribe({
 *   error: (e) => isPermissionDeniedError(e) && console.error(`grant read on ${e.key}`),
 * });
 * ```
 */
export class PermissionDeniedError extends Error {
  /** Always `'PermissionDeniedError'`, whichever copy of gsr made it. */
  override readonly name = 'PermissionDeniedError';
  /** The brand {@link isPermissionDeniedError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isPermissionDeniedError = true;

  constructor(
    /** The key or key prefix the operation touched. */
    readonly key: string,
    /** The error etcd answered with. */
    override readonly cause: unknown,
  ) {
    super(`etcd denied gsr access to "${key}"`, { cause });
  }
}

/** Whether `error` is a {@link PermissionDeniedError}. */
export const isPermissionDeniedError = (error: unknown): error is PermissionDeniedError =>
  hasBrand(error, 'isPermissionDeniedError');
