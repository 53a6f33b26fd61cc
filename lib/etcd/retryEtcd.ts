import { EtcdUnavailableError } from '../errors/EtcdUnavailableError';
import type { EtcdOperation } from './classifyEtcdError';
import type { EtcdContext } from './EtcdContext';
import { Retrier } from './Retrier';

/**
 * Runs `attempt` until it succeeds, retrying transient etcd failures on gsr's one backoff policy
 * ({@link Retrier}).
 *
 * Rejects with the typed error when a failure is one retrying cannot fix, and with an
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
          const fatal = signal.aborted
            ? (context.failed(error, operation) ??
              new EtcdUnavailableError(operation.description, error))
            : retrier.failed(error, run);
          if (fatal !== undefined) {
            settle();
            reject(fatal);
          }
        },
      );
    };
    signal.addEventListener('abort', stop, { once: true });
    run();
  });
}
