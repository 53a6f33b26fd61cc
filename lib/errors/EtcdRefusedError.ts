import { EtcdRefusal } from './EtcdRefusal';
import { hasBrand } from './hasBrand';

/**
 * etcd refused a request as one it will never accept: a value over its request size limit
 * (`--max-request-bytes`), a lease TTL over its maximum, an argument it calls invalid. Retrying cannot
 * fix it, so gsr never retries it: a registration or stream errors with it at once.
 *
 * gsr validates sizes before writing, well under etcd's default limit, so this means etcd runs with a
 * smaller limit than its default, or a newer etcd refuses something an older one took.
 *
 * @example
 * ```ts
 * registry.register(endpoint).subscribe({
 *   error: (e) => isEtcdRefusedError(e) && console.error(`etcd refused ${e.key}: ${e.message}`),
 * });
 * ```
 */
export class EtcdRefusedError extends EtcdRefusal {
  /** Always `'EtcdRefusedError'`, whichever copy of gsr made it. */
  override readonly name = 'EtcdRefusedError';
  /** The brand {@link isEtcdRefusedError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isEtcdRefusedError = true;

  constructor(operation: string, key: string, cause: unknown) {
    super(operation, key, cause, `etcd refused to ${operation}`);
  }
}

/** Whether `error` is an {@link EtcdRefusedError}. */
export const isEtcdRefusedError = (error: unknown): error is EtcdRefusedError =>
  hasBrand(error, 'isEtcdRefusedError');
