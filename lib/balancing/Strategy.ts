import type { Endpoint } from '../endpoint/Endpoint';

/**
 * Chooses the endpoint for `value` from a non-empty list. It must return one of `endpoints`.
 *
 * @example
 * ```ts
 * // Stick each user to one endpoint while the list is stable.
 * const byUser: Picker<{ userId: number }> = (endpoints, { userId }) =>
 *   endpoints[userId % endpoints.length];
 * ```
 */
export type Picker<T> = (endpoints: readonly Endpoint[], value: T) => Endpoint;

/**
 * How to spread values over endpoints: `'round-robin'` (each endpoint in turn: over 3 endpoints,
 * 30 values go 10/10/10), `'random'`, or a {@link Picker} of your own.
 */
export type Strategy<T> = 'round-robin' | 'random' | Picker<T>;
