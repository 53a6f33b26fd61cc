import type { Endpoint } from '../endpoint/Endpoint';

/** One attempt of a call made through a balancer: where it went, and how it failed. */
export interface Attempt {
  /** The endpoint tried. */
  readonly endpoint: Endpoint;
  /** What the attempt failed with. */
  readonly error: unknown;
}

/** Where a failed call's attempts are kept on its error: one key for every copy of gsr. */
const ATTEMPTS = Symbol.for('gsr.attempts');

/**
 * Puts a call's attempts on the error it rejects with (its last attempt's error), without changing
 * what the caller sees: a property no other code uses, not enumerated.
 * @internal
 */
export function recordAttempts(error: unknown, attempts: readonly Attempt[]): void {
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') {
    try {
      if (Object.isExtensible(error)) {
        Object.defineProperty(error, ATTEMPTS, {
          value: Object.freeze([...attempts]),
          configurable: true,
        });
      }
    } catch {
      // A Proxy that refuses: the call still rejects with what it threw, without its attempts.
    }
  }
}

/**
 * Every attempt a failed `balancer.call` made, in order, with the endpoint each went to: the error a
 * call rejects with is its last attempt's, and it carries them all.
 *
 * @example
 * ```ts
 * try {
 *   await balancer.call((endpoint) => fetch(`http://${endpoint.address}/`));
 * } catch (error) {
 *   console.error(`failed on ${attemptsOf(error).map((a) => a.endpoint.address).join(', ')}`);
 * }
 * ```
 */
export function attemptsOf(error: unknown): readonly Attempt[] {
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') {
    try {
      return (error as { [ATTEMPTS]?: readonly Attempt[] })[ATTEMPTS] ?? [];
    } catch {
      return [];
    }
  }
  return [];
}
