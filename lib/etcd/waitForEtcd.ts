import type { GsrConfig } from '../config/GsrConfig';
import { MAX_TIMER_MS } from '../config/timeOptions';
import { ConnectError } from '../errors/ConnectError';
import { isEtcdUnavailableError } from '../errors/EtcdUnavailableError';
import { messageOf } from '../errors/messageOf';
import { isPermissionDeniedError } from '../errors/PermissionDeniedError';
import type { EtcdOperation } from './classifyEtcdError';
import type { EtcdContext } from './EtcdContext';
import { retryEtcd } from './retryEtcd';

/** How long `connect()` waits for etcd before it says so. */
const CONNECT_WARNING_MS = 3000;

/**
 * Resolves once etcd answers a request, retrying transient failures on gsr's one backoff policy for up
 * to `connectTimeoutSeconds` (with `waitForEtcd`; else until `signal` aborts: a registry that started
 * without etcd); each attempt has `dialTimeoutSeconds`. Rejects at once with a typed error
 * on what retrying cannot fix (credentials, permission, a TLS certificate), with a {@link ConnectError}
 * naming the endpoints and the last failure when time runs out, and with `signal.reason` when the
 * caller gives up first.
 * @internal
 */
export async function waitForEtcd(
  context: EtcdContext,
  config: GsrConfig,
  probe: { readonly prefix: string; readonly mayBeDenied: boolean },
  signal: AbortSignal | undefined,
): Promise<void> {
  const { prefix } = probe;
  const { etcd, logger } = context;
  const operation: EtcdOperation = {
    key: prefix,
    description: 'connect to etcd',
    connectingTo: config.etcdEndpoints,
  };
  const endpoints = config.etcdEndpoints.join(', ');
  const { clock } = context;
  const started = clock.now();
  // A registry that started without etcd keeps trying until it closes: its lists and registrations do.
  const givesUp = config.waitForEtcd;
  const timeoutMs = givesUp ? config.connectTimeoutSeconds * 1000 : MAX_TIMER_MS;
  const deadline = started + timeoutMs;
  // Like AbortSignal.timeout, on the registry's clock: the timer does not keep the process alive.
  const timeout = new AbortController();
  const timedOut = timeout.signal;
  const cancelTimeout = clock.schedule(
    timeoutMs,
    () => timeout.abort(new DOMException('connect timed out', 'TimeoutError')),
    { keepsAlive: false },
  );
  let attempts = 0;
  let lastFailure = 'no answer yet';
  // Nothing waits silently: past a few seconds, say what it waits for, and until when.
  const cancelWarning = context.clock.schedule(CONNECT_WARNING_MS, () => {
    logger.warn(
      `still trying to reach etcd at ${endpoints} (${lastFailure}); ` +
        (givesUp
          ? `it keeps trying for up to ${config.connectTimeoutSeconds}s (GSR_ETCD_CONNECT_TIMEOUT_SECONDS)`
          : 'lists and registrations wait for it'),
    );
  });

  const attempt = async (): Promise<void> => {
    attempts += 1;
    try {
      const attemptDeadline = Math.min(clock.now() + config.dialTimeoutSeconds * 1000, deadline);
      await etcd.probe(prefix, { deadline: attemptDeadline, serializable: false });
    } catch (error) {
      const verdict = context.verdict(error, operation);
      if (
        probe.mayBeDenied &&
        verdict.kind === 'refused' &&
        isPermissionDeniedError(verdict.error)
      ) {
        return; // etcd answered; what this user may read is each stream's to find out.
      }
      if (verdict.kind === 'refused') {
        throw error; // A certificate, credentials: retryEtcd rejects with the verdict's error.
      }
      const message = messageOf(error);
      lastFailure = message;
      if (attempts === 1) {
        logger.info(`etcd at ${endpoints} is not answering yet (${message}); retrying`, {
          timeoutSeconds: config.connectTimeoutSeconds,
        });
      }
      logger.debug(`connect attempt ${attempts} failed: ${message}`);
      throw error;
    }
  };

  try {
    await retryEtcd(
      context,
      operation,
      attempt,
      signal === undefined ? timedOut : AbortSignal.any([timedOut, signal]),
    );
  } catch (error) {
    cancelWarning();
    cancelTimeout();
    if (signal?.aborted === true) {
      throw signal.reason;
    }
    if (isEtcdUnavailableError(error)) {
      throw new ConnectError(config.etcdEndpoints, config.connectTimeoutSeconds, error.cause);
    }
    throw error;
  }
  cancelWarning();
  cancelTimeout();
  logger.info(`connected to etcd at ${endpoints} in ${clock.now() - started}ms`);
}
