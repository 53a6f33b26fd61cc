import { asyncScheduler as scheduler, Observable, type OperatorFunction } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { NoEndpointError } from '../errors/NoEndpointError';
import { createPicker } from './createPicker';
import type { Strategy } from './Strategy';

/** A value and the endpoint it goes to. */
export interface WithEndpoint<T> {
  readonly value: T;
  readonly endpoint: Endpoint;
}

/** Options of {@link withEndpoint}. */
export interface WithEndpointOptions<T> {
  /**
   * How to choose among the endpoints.
   * @default 'round-robin'
   */
  readonly strategy?: Strategy<T>;
  /**
   * How long, in milliseconds, a value may wait for an endpoint while the list is empty before the
   * stream errors with a `NoEndpointError`. Without it, values wait as long as it takes.
   */
  readonly timeout?: number;
}

/**
 * Pairs each value of the source with an endpoint picked from the latest list of `endpoints$`:
 * `source.pipe(withEndpoint(registry.endpoints$('api')))` emits `{ value, endpoint }`.
 *
 * - Values keep their order. While the list is empty they wait, in order, and go out as soon as an
 *   endpoint arrives; with `timeout`, a value that waits longer errors the stream instead.
 * - An endpoint is never picked once a list without it has been emitted.
 * - Each subscription subscribes to `endpoints$` (shared and replayed for `registry.endpoints$`) and keeps
 *   its own round-robin turn. It completes when the source completes and all waiting values went out.
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
  endpoints$: Observable<readonly Endpoint[]>,
  options: WithEndpointOptions<T> = {},
): OperatorFunction<T, WithEndpoint<T>> {
  const { timeout } = options;
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0)) {
    throw new TypeError(`Expected timeout to be a number of milliseconds >= 0, got ${timeout}`);
  }
  return (source) =>
    new Observable<WithEndpoint<T>>((subscriber) => {
      const pick = createPicker(options.strategy);
      const waiting: { value: T; since: number }[] = [];
      let latest: readonly Endpoint[] = [];
      let listDone = false;
      let sourceDone = false;
      let deadline: { unsubscribe(): void } | undefined;

      const send = (value: T): void => {
        let endpoint: Endpoint;
        try {
          endpoint = pick(latest, value);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        subscriber.next({ value, endpoint });
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
        while (latest.length > 0 && waiting.length > 0 && !subscriber.closed) {
          send((waiting.shift() as { value: T }).value);
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
        endpoints$.subscribe({
          next: (list) => {
            latest = list;
            drain();
          },
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
            if (waiting.length === 0 && latest.length > 0) {
              send(value);
              return;
            }
            waiting.push({ value, since: scheduler.now() });
            drain();
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            sourceDone = true;
            drain();
          },
        }),
      );
      return () => deadline?.unsubscribe();
    });
}
