import { filter, firstValueFrom, type Observable, type Subscription, timeout } from 'rxjs';

/** Everything a subscription saw, for assertions. */
export interface Recording<T> {
  readonly values: T[];
  error: unknown;
  completed: boolean;
  readonly subscription: Subscription;
  /** The latest value, or undefined before the first. */
  readonly latest: T | undefined;
}

/** Subscribes to `source$` and records what it emits. Unsubscribe through `subscription`. */
export function record<T>(source$: Observable<T>): Recording<T> {
  const values: T[] = [];
  const recording = {
    values,
    error: undefined as unknown,
    completed: false,
    subscription: undefined as unknown as Subscription,
    get latest(): T | undefined {
      return values[values.length - 1];
    },
  };
  recording.subscription = source$.subscribe({
    next: (value) => values.push(value),
    error: (error: unknown) => (recording.error = error),
    complete: () => (recording.completed = true),
  });
  return recording;
}

/** The first value of `source$` that satisfies `predicate`, within `timeoutMs`. */
export function nextMatching<T>(
  source$: Observable<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  return firstValueFrom(source$.pipe(filter(predicate), timeout(timeoutMs)));
}

/** Polls `check` until it returns true, within `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`${what} not met within ${timeoutMs}ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
