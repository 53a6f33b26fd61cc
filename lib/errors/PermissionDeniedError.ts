import { EtcdRefusal } from './EtcdRefusal';
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
export class PermissionDeniedError extends EtcdRefusal {
  /** Always `'PermissionDeniedError'`, whichever copy of gsr made it. */
  override readonly name = 'PermissionDeniedError';
  /** The brand {@link isPermissionDeniedError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isPermissionDeniedError = true;

  constructor(operation: string, key: string, cause: unknown) {
    super(operation, key, cause, `etcd denied gsr access to "${key}" (${operation})`);
  }
}

/** Whether `error` is a {@link PermissionDeniedError}. */
export const isPermissionDeniedError = (error: unknown): error is PermissionDeniedError =>
  hasBrand(error, 'isPermissionDeniedError');
