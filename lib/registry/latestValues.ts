import type { Observable, Subscription } from 'rxjs';

/**
 * An Observable of states (each value the whole state: a list) as an async iterator, for `for await`:
 * each step gets the latest value not yet seen, so a slow loop skips the states it was too slow for
 * rather than queueing them all, and never sees the same one twice. The subscription is taken on the
 * first step and released when the loop ends (`break`, `return`, a throw), the Observable errors (the
 * loop throws it) or completes (the loop ends).
 * @internal
 */
export function latestValues<T>(source$: Observable<T>): AsyncIterableIterator<T> {
  let subscription: Subscription | undefined;
  let latest: { readonly value: T } | undefined;
  let ended: { readonly error?: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const finish = (): IteratorResult<T> => {
    subscription?.unsubscribe();
    ended ??= {};
    latest = undefined;
    notify();
    return { done: true, value: undefined };
  };
  const iterator: AsyncIterableIterator<T> = {
    async next(): Promise<IteratorResult<T>> {
      subscription ??= source$.subscribe({
        next: (value) => {
          latest = { value };
          notify();
        },
        error: (error: unknown) => {
          ended = { error };
          notify();
        },
        complete: () => {
          ended = {};
          notify();
        },
      });
      while (latest === undefined && ended === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
      if (latest !== undefined) {
        const { value } = latest;
        latest = undefined;
        return { done: false, value };
      }
      if (ended !== undefined && 'error' in ended) {
        const { error } = ended;
        finish();
        throw error;
      }
      return finish();
    },
    return: () => Promise.resolve(finish()),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
