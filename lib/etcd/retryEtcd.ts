import { EtcdUnavailableError, isEtcdUnavailableError } from '../errors/EtcdUnavailableError';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdOperation } from './classifyEtcdError';
import type { EtcdContext } from './EtcdContext';
import { Retrier } from './Retrier';

/**
 * Runs `attempt` until it succeeds, retrying what the one classifier calls transient on gsr's backoff
 * ({@link Retrier}).
 *
 * Rejects when the verdict is not to retry: with the typed error of a refusal or a fatal failure, and
 * with the failure itself when etcd lost the lease (the caller replaces the lease). Rejects with an
 * {@link EtcdUnavailableError} (its `cause` the last failure) when `signal` is aborted before an attempt
 * succeeded. An abort cuts a backoff delay short but never an attempt in flight, and the first attempt
 * is always made: that is what lets a closing registry try its deletes once, and know how they went.
 * @internal
 */
export function retryEtcd<T>(
  context: EtcdContext,
  operation: EtcdOperation,
  attempt: () => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const retrier = new Retrier(context, operation);
    let last: unknown;
    const settle = (): void => signal.removeEventListener('abort', stop);
    const stop = (): void => {
      if (retrier.waiting) {
        retrier.cancel();
        settle();
        reject(new EtcdUnavailableError(operation.description, last));
      }
    };
    const run = (): void => {
      attempt().then(
        (value) => {
          settle();
          retrier.succeeded();
          resolve(value);
        },
        (error: unknown) => {
          last = error;
          const verdict = signal.aborted
            ? context.verdict(error, operation)
            : retrier.failed(error, run);
          if (verdict === undefined) {
            return; // Scheduled again.
          }
          settle();
          switch (verdict.kind) {
            case 'retry':
              reject(new EtcdUnavailableError(operation.description, error));
              break;
            case 'lease-lost':
              // An EtcdFailure: the caller replaces the lease.
              reject(error instanceof Error ? error : new Error(String(error)));
              break;
            default:
              reject(verdict.error);
          }
        },
      );
    };
    signal.addEventListener('abort', stop, { once: true });
    run();
  });
}

/**
 * A user's request to etcd (unregister, an override): {@link retryEtcd} until the registry closes,
 * whose close then rejects it with a `RegistryClosedError` rather than etcd being unavailable.
 * @internal
 */
export async function retryUntilClosed<T>(
  context: EtcdContext,
  operation: EtcdOperation,
  attempt: () => Promise<T>,
): Promise<T> {
  try {
    return await retryEtcd(context, operation, attempt, context.closing);
  } catch (error) {
    throw context.closing.aborted && isEtcdUnavailableError(error)
      ? new RegistryClosedError(operation.description)
      : error;
  }
}
