import {
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'winston';
import type { GsrConfig } from '../config/GsrConfig';
import { ConnectError } from '../errors/ConnectError';
import { TlsError } from '../errors/TlsError';
import { fatalError, type EtcdOperation } from './fatalError';
import { isTlsFailure } from './isTlsFailure';
import { probeEtcd } from './probeEtcd';

/**
 * Resolves once etcd answers a request, retrying transient failures with exponential backoff and jitter
 * for up to `connectTimeoutSeconds`; each attempt has `dialTimeoutSeconds`. Rejects at once with a typed
 * error on what retrying cannot fix (credentials, permission, a TLS certificate), and with a
 * {@link ConnectError} naming
 * the endpoints and the last failure when time runs out.
 * @internal
 */
export async function waitForEtcd(client: Etcd3, config: GsrConfig, logger: Logger): Promise<void> {
  const prefix = `${config.keyPrefix}services/`;
  const operation: EtcdOperation = {
    key: prefix,
    username: config.etcdUsername,
    description: `connect to etcd`,
  };
  const endpoints = config.etcdEndpoints.join(', ');
  const started = Date.now();
  const deadline = started + config.connectTimeoutSeconds * 1000;
  let lastError: unknown;

  // A handshake that failed on a certificate fails the same way every time: do not wait it out.
  const transient = (error: unknown): boolean =>
    fatalError(error, operation) === undefined && !isTlsFailure(error);
  const retrying = retry(handleWhen(transient), {
    maxAttempts: Infinity,
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 5000 }),
  })
    // The overall timeout settles connect(); a pending backoff delay must not hold the process open.
    .dangerouslyUnref();
  retrying.onRetry(({ delay, attempt }) => {
    const message = lastError instanceof Error ? lastError.message : String(lastError);
    if (attempt === 1) {
      logger.info(`etcd at ${endpoints} is not answering yet (${message}); retrying`, {
        timeoutSeconds: config.connectTimeoutSeconds,
      });
    }
    logger.debug(`connect attempt ${attempt} failed: ${message}; next in ${Math.round(delay)}ms`);
  });
  const policy = wrap(
    timeout(config.connectTimeoutSeconds * 1000, TimeoutStrategy.Aggressive),
    retrying,
  );

  try {
    await policy.execute(async ({ signal }) => {
      if (signal.aborted) {
        return; // Timed out during a backoff delay: connect() has already rejected.
      }
      try {
        const attemptDeadline = Math.min(Date.now() + config.dialTimeoutSeconds * 1000, deadline);
        await probeEtcd(client, prefix, attemptDeadline);
      } catch (error) {
        lastError = error;
        throw error;
      }
    });
  } catch (error) {
    // Not cockatiel's isTaskCancelledError: in 3.2.1 it tests for the bulkhead error's marker.
    if (error instanceof TaskCancelledError) {
      throw new ConnectError(config.etcdEndpoints, config.connectTimeoutSeconds, lastError);
    }
    if (isTlsFailure(error)) {
      throw new TlsError(config.etcdEndpoints, error);
    }
    throw fatalError(error, operation) ?? error;
  }
  logger.info(`connected to etcd at ${endpoints} in ${Date.now() - started}ms`);
}
