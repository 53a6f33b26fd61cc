import { readFileSync } from 'node:fs';
import type { Environment, GsrOptions } from '../config/GsrConfig';
import { ValidationError } from '../errors/ValidationError';

/** The flags every command takes, as commander parsed them: etcdctl's, where etcdctl has them. */
export interface GlobalFlags {
  readonly endpoints?: string;
  readonly user?: string;
  readonly passwordFile?: string;
  readonly connectTimeout?: string;
}

/**
 * How long a command tries to reach etcd when neither `--connect-timeout` nor
 * GSR_ETCD_CONNECT_TIMEOUT_SECONDS says: a few seconds, as etcdctl gives, rather than the library's five
 * minutes, meant for services that start before their etcd.
 */
export const CLI_CONNECT_TIMEOUT_SECONDS = 5;

/**
 * The configuration options the global flags give, over the environment: `--endpoints`, `--user` and
 * `--password-file` (a password is never taken on the command line, where `ps` shows it), and the
 * connect timeout, a few seconds unless said otherwise.
 *
 * @throws ValidationError naming the flag, for a password file that cannot be read or a bad timeout.
 */
export function cliOptions(flags: GlobalFlags, env: Environment): GsrOptions {
  const timeout = flags.connectTimeout;
  if (timeout !== undefined && !(Number(timeout) > 0 && Number.isFinite(Number(timeout)))) {
    throw new ValidationError('--connect-timeout', timeout, 'expected a number of seconds > 0');
  }
  return {
    ...(flags.endpoints !== undefined && { etcdEndpoints: flags.endpoints }),
    ...(flags.user !== undefined && { etcdUsername: flags.user }),
    ...(flags.passwordFile !== undefined && { etcdPassword: readPassword(flags.passwordFile) }),
    ...(timeout !== undefined
      ? { connectTimeoutSeconds: Number(timeout) }
      : env.GSR_ETCD_CONNECT_TIMEOUT_SECONDS === undefined && {
          connectTimeoutSeconds: CLI_CONNECT_TIMEOUT_SECONDS,
        }),
  };
}

function readPassword(path: string): string {
  try {
    // A password file usually ends with a newline that is not part of the password.
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ValidationError('--password-file', path, `cannot read it (${code})`);
  }
}
