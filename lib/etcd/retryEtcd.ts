import type { IBackoff } from 'cockatiel';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdUnavailableError } from '../errors/EtcdUnavailableError';
import type { EtcdContext } from './EtcdContext';
import { fatalError, type EtcdOperation } from './fatalError';

/**
 * Runs `attempt` until it succeeds, retrying transient etcd failures after the context's backoff.
 *
 * Rejects with the typed error when a failure is one retrying cannot fix, and with an
 * {@link EtcdUnavailableError} when `signal` is aborted before it could succeed. The first attempt is
 * always made, even with an aborted signal: that is what lets a closing registry try its deletes once.
 *
 * (cockatiel's `retry` would do, but in 3.2 its delays cannot be cut short by an abort signal.)
 * @internal
 */
export async function retryEtcd<T>(
  operation: EtcdOperation,
  attempt: () => Promise<T>,
  context: EtcdContext,
  signal: AbortSignal,
): Promise<T> {
  let backoff: IBackoff<undefined> | undefined;
  for (;;) {
    try {
      const result = await attempt();
      if (backoff !== undefined) {
        context.logger.debug(`${operation.description} succeeded after retrying`);
      }
      context.health.up();
      return result;
    } catch (error) {
      const fatal = fatalError(error, operation);
      if (fatal !== undefined) {
        throw fatal;
      }
      context.health.down(error);
      if (backoff === undefined) {
        context.logger.debug(`${operation.description} failed; retrying`, { cause: error });
      }
      backoff = backoff?.next(undefined) ?? context.backoff.next(undefined);
      if (!signal.aborted) {
        await sleep(backoff.duration, undefined, { signal }).catch(() => undefined);
      }
      if (signal.aborted) {
        throw new EtcdUnavailableError(operation.description, error);
      }
    }
  }
}
