import {
  asyncScheduler as scheduler,
  Observable,
  type OperatorFunction,
  type Subscription,
} from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { NoEndpointError } from '../errors/NoEndpointError';
import { Balancer, isBalancer } from './Balancer';
import { type BalancerOptions, validateBalancerOptions } from './BalancerOptions';

/** A value and the endpoint it goes to. */
export interface WithEndpoint<T> {
  /** The value from the source. */
  readonly value: T;
  /** The endpoint picked for it. */
  readonly endpoint: Endpoint;
}

/**
 * Options of {@link withEndpoint}: how to pick (a {@link BalancerOptions} subset, used when it is given
 * a list rather than a balancer), and how long a value may wait.
 */
export interface WithEndpointOptions<T> extends Pick<
  BalancerOptions<T>,
  'strategy' | 'zone' | 'outlier' | 'latency' | 'logger'
> {
  /**
   * How long, in milliseconds, a value may wait for an endpoint while the list is empty before the
   * stream errors with a `NoEndpointError`. Without it, values wait as long as it takes.
   */
  readonly timeout?: number;
}

/**
 * Pairs each value of the source with an endpoint picked from the latest list:
 * `source.pipe(withEndpoint(registry.endpoints$('api')))` emits `{ value, endpoint }`. Give it a
 * {@link Balancer} instead of a list to pick with what that balancer has learnt from its calls
 * (ejections, latency); given a list, it makes a balancer of its own per subscription, which learns
 * nothing (`withEndpoint` does not see the calls: `callEndpoint` does).
 *
 * - Values keep their order. While the list is empty they wait, in order, and go out as soon as an
 *   endpoint arrives; with `timeout`, a value that waits longer errors the stream instead.
 * - An endpoint is never picked once a list without it has been emitted.
 * - It completes when the source completes and all waiting values went out.
 *
 * @example
 * ```ts
 * import { interval } from 'rxjs';
 * import { withEndpoint } from 'gsr';
 *
 * interval(100)
 *   .pipe(withEndpoint(registry.endpoints$('data-access')))
 *   .subscribe(({ value, endpoint }) => console.log(`request ${value} -> ${endpoint.address}`));
 * ```
 */
export function withEndpoint<T>(
  endpoints: Observable<readonly Endpoint[]> | Balancer<T>,
  options: WithEndpointOptions<T> = {},
): OperatorFunction<T, WithEndpoint<T>> {
  const { timeout } = options;
  if (
    timeout !== undefined &&
    !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout >= 0)
  ) {
    throw new TypeError(
      `Expected \`timeout\` to be a number of milliseconds >= 0, got \`${String(timeout)}\` (${typeof timeout})`,
    );
  }
  const shared = isBalancer<T>(endpoints) ? endpoints : undefined;
  if (shared === undefined) {
    validateBalancerOptions(options); // At once, not at subscription.
  }
  return (source) =>
    new Observable<WithEndpoint<T>>((subscriber) => {
      const balancer =
        shared ?? new Balancer<T>(endpoints as Observable<readonly Endpoint[]>, options);
      const waiting: { value: T; since: number }[] = [];
      let listDone = false;
      let sourceDone = false;
      // On RxJS's scheduler, so that marble tests run its timeout in virtual time.
      let deadline: Subscription | undefined;

      const send = (value: T): boolean => {
        let endpoint: Endpoint | undefined;
        try {
          endpoint = balancer.pick(value);
        } catch (error) {
          subscriber.error(error);
          return true;
        }
        if (endpoint === undefined) {
          return false;
        }
        subscriber.next({ value, endpoint });
        return true;
      };
      const armDeadline = (): void => {
        deadline?.unsubscribe();
        deadline = undefined;
        const first = waiting[0];
        if (timeout !== undefined && first !== undefined) {
          const left = Math.max(0, first.since + timeout - scheduler.now());
          deadline = scheduler.schedule(() => {
            subscriber.error(new NoEndpointError(scheduler.now() - first.since, 'timeout'));
          }, left);
        }
      };
      const drain = (): void => {
        while (
          waiting.length > 0 &&
          !subscriber.closed &&
          send((waiting[0] as { value: T }).value)
        ) {
          waiting.shift();
        }
        armDeadline();
        if (waiting.length > 0 && listDone) {
          subscriber.error(
            new NoEndpointError(scheduler.now() - (waiting[0]?.since ?? 0), 'completed'),
          );
        } else if (sourceDone && waiting.length === 0) {
          subscriber.complete();
        }
      };

      // The list first: a replayed list is then in hand before the first value.
      subscriber.add(
        balancer.list$.subscribe({
          next: () => drain(),
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            listDone = true;
            drain();
          },
        }),
      );
      subscriber.add(
        source.subscribe({
          next: (value) => {
            if (waiting.length > 0 || !send(value)) {
              waiting.push({ value, since: scheduler.now() });
              drain();
            }
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            sourceDone = true;
            drain();
          },
        }),
      );
      return () => {
        deadline?.unsubscribe();
        if (shared === undefined) {
          balancer.close();
        }
      };
    });
}
