import { hasBrand } from './hasBrand';
import { messageOf } from './messageOf';

/**
 * The TLS handshake with etcd failed: etcd's certificate is not trusted (GSR_TLS_CA_PATH), or etcd
 * refused the client certificate (GSR_USE_TLS, GSR_TLS_CERT_PATH, GSR_TLS_KEY_PATH). `Registry.connect()`
 * rejects with it at once rather than retrying a configuration that cannot work.
 *
 * @example
 * ```ts
 * Registry.connect().catch((e) => {
 *   if (isTlsError(e)) console.error(`fix the TLS settings: ${e.message}`);
 * });
 * ```
 */
export class TlsError extends Error {
  /** Always `'TlsError'`, whichever copy of gsr made it. */
  override readonly name = 'TlsError';
  /** The brand {@link isTlsError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isTlsError = true;

  constructor(
    /** The etcd endpoints gsr tried. */
    readonly endpoints: readonly string[],
    /** The handshake failure gRPC reported. */
    override readonly cause: unknown,
  ) {
    const why = messageOf(cause);
    super(
      `TLS with etcd at ${endpoints.join(', ')} failed (check GSR_TLS_CA_PATH for etcd's CA, and ` +
        `GSR_USE_TLS, GSR_TLS_CERT_PATH and GSR_TLS_KEY_PATH for the client certificate): ${why}`,
      { cause },
    );
  }
}

/** Whether `error` is a {@link TlsError}. */
export const isTlsError = (error: unknown): error is TlsError => hasBrand(error, 'isTlsError');
