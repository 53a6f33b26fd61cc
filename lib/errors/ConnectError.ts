import { hasBrand } from './hasBrand';

/**
 * `Registry.connect()` could not reach etcd before `GSR_ETCD_CONNECT_TIMEOUT_SECONDS` ran out.
 *
 * @example
 * ```ts
 * Registry.connect().catch((e) => {
 *   if (isConnectError(e)) console.error(`etcd at ${e.endpoints.join(', ')} is down: ${e.cause}`);
 * });
 * ```
 */
export class ConnectError extends Error {
  /** Always `'ConnectError'`, whichever copy of gsr made it. */
  override readonly name = 'ConnectError';
  /** The brand {@link isConnectError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isConnectError = true;

  constructor(
    /** The etcd endpoints that were tried. */
    readonly endpoints: readonly string[],
    /** How long connecting was tried, in seconds. */
    readonly timeoutSeconds: number,
    /** The last failure seen, if any attempt completed. */
    override readonly cause: unknown,
  ) {
    const last = cause instanceof Error ? `: last error: ${cause.message}` : '';
    super(`Could not reach etcd at ${endpoints.join(', ')} within ${timeoutSeconds}s${last}`, {
      cause,
    });
  }
}

/** Whether `error` is a {@link ConnectError}. */
export const isConnectError = (error: unknown): error is ConnectError =>
  hasBrand(error, 'isConnectError');
