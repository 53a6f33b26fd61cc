import { messageOf } from './messageOf';

/**
 * What {@link EtcdRefusedError} and {@link PermissionDeniedError} share: etcd answered a request with a
 * refusal that retrying cannot fix, so gsr never retries it, and says which request and which key.
 * Not exported: check for the kinds with their guards, which work across copies of gsr.
 *
 * @example
 * ```ts
 * registry.register(endpoint).subscribe({
 *   error: (e) => {
 *     if (isPermissionDeniedError(e) || isEtcdRefusedError(e)) console.error(e.operation, e.key);
 *   },
 * });
 * ```
 */
export abstract class EtcdRefusal extends Error {
  protected constructor(
    /** What was asked, e.g. `register gsr/services/web/10.0.0.7:80`. */
    readonly operation: string,
    /** The key or prefix it touched. */
    readonly key: string,
    /** The error etcd answered with. */
    override readonly cause: unknown,
    verdict: string,
  ) {
    super(`${verdict}: ${messageOf(cause)}`, { cause });
  }
}
