import {
  defer,
  finalize,
  from,
  lastValueFrom,
  mergeMap,
  Observable,
  type ObservableInput,
  type OperatorFunction,
} from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { Balancer, isBalancer } from './Balancer';
import { type BalancerOptions, validateBalancerOptions } from './BalancerOptions';

/** Options of {@link callEndpoint}. */
export interface CallEndpointOptions<T> extends BalancerOptions<T> {
  /**
   * How many calls may be in flight at once, as `mergeMap`'s concurrency.
   * @default Infinity
   */
  readonly concurrency?: number;
}

/**
 * Maps each value to the result of a call on an endpoint picked for it, as `mergeMap` would, through a
 * {@link Balancer}: every call's outcome is recorded (latency, failures, calls in flight), a call that
 * failed before reaching its endpoint is retried on another, and endpoints that fail are ejected.
 * Given a list rather than a balancer, it makes a balancer of its own (with `options`) for each
 * subscription, closed with it. Unsubscribing aborts the calls in flight through their `signal`.
 *
 * `call(value, endpoint, signal)` returns the call: a Promise, or an Observable whose last value is the
 * result. Errors that exhaust the retries error the stream, as `mergeMap` does.
 *
 * @example
 * ```ts
 * import { callEndpoint } from 'gsr';
 *
 * orders$
 *   .pipe(
 *     callEndpoint(
 *       registry.endpoints$('pricing'),
 *       (order, endpoint, signal) =>
 *         fetch(`http://${endpoint.address}/price/${order.id}`, { signal }).then((r) => r.json()),
 *       { strategy: 'latency', concurrency: 8 },
 *     ),
 *   )
 *   .subscribe((price) => console.log(price));
 * ```
 */
export function callEndpoint<T, R>(
  endpoints: Observable<readonly Endpoint[]> | Balancer<T>,
  call: (value: T, endpoint: Endpoint, signal: AbortSignal) => ObservableInput<R>,
  options: CallEndpointOptions<T> = {},
): OperatorFunction<T, R> {
  const { concurrency = Infinity, ...balancing } = options;
  if (!(concurrency === Infinity || (Number.isSafeInteger(concurrency) && concurrency >= 1))) {
    throw new TypeError(
      `Expected \`concurrency\` to be a whole number >= 1 or Infinity, got \`${String(concurrency)}\` (${typeof concurrency})`,
    );
  }
  const shared = isBalancer<T>(endpoints) ? endpoints : undefined;
  if (shared === undefined) {
    validateBalancerOptions(balancing); // Bad options fail here, not at subscription.
  }
  return (source) =>
    defer(() => {
      const balancer =
        shared ?? new Balancer<T>(endpoints as Observable<readonly Endpoint[]>, balancing);
      return source.pipe(
        mergeMap(
          (value) =>
            new Observable<R>((subscriber) => {
              const controller = new AbortController();
              balancer
                .call((endpoint, signal) => lastValueFrom(from(call(value, endpoint, signal))), {
                  signal: controller.signal,
                  value,
                })
                .then(
                  (result) => {
                    subscriber.next(result);
                    subscriber.complete();
                  },
                  (error: unknown) => subscriber.error(error),
                );
              return () => controller.abort();
            }),
          concurrency,
        ),
        finalize(() => {
          if (shared === undefined) {
            balancer.close();
          }
        }),
      );
    });
}
