import { hasBrand } from './hasBrand';
import { messageOf } from './messageOf';

/**
 * etcd refused gsr's credentials (`GSR_ETCD_USERNAME` / `GSR_ETCD_PASSWORD`): a wrong password, an unknown
 * user, or authentication required but not configured. Retrying cannot fix it, so it is never retried.
 *
 * @example
 * ```ts
 * Registry.connect().catch((e) => {
 *   if (isAuthenticationError(e)) console.error(`check the password of ${e.username}`);
 * });
 * ```
 */
export class AuthenticationError extends Error {
  /** Always `'AuthenticationError'`, whichever copy of gsr made it. */
  override readonly name = 'AuthenticationError';
  /** The brand {@link isAuthenticationError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isAuthenticationError = true;

  constructor(
    /** The configured user, if any. */
    readonly username: string | undefined,
    /** The error etcd answered with. */
    override readonly cause: unknown,
  ) {
    super(
      username === undefined
        ? `etcd requires authentication, and gsr has no credentials: set GSR_ETCD_USERNAME and ` +
            `GSR_ETCD_PASSWORD (gsr --user and --password-file) (etcd said: ${messageOf(cause)})`
        : `etcd refused to authenticate gsr as user "${username}" (check GSR_ETCD_USERNAME and ` +
            `GSR_ETCD_PASSWORD): ${messageOf(cause)}`,
      { cause },
    );
  }
}

/** Whether `error` is an {@link AuthenticationError}. */
export const isAuthenticationError = (error: unknown): error is AuthenticationError =>
  hasBrand(error, 'isAuthenticationError');
