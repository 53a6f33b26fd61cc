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
    const who = username === undefined ? 'without credentials' : `as user "${username}"`;
    super(`etcd refused to authenticate gsr ${who}: ${messageOf(cause)}`, { cause });
  }
}

/** Whether `error` is an {@link AuthenticationError}. */
export const isAuthenticationError = (error: unknown): error is AuthenticationError =>
  hasBrand(error, 'isAuthenticationError');
