import type { Endpoint } from '../endpoint/Endpoint';

/**
 * Chooses the endpoint for `value` from a non-empty list (the endpoints that may be picked now). It must
 * return one of `endpoints`.
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
 * How to spread calls over endpoints. Every built-in strategy honours weights (`metadata.weight`):
 *
 * - `'round-robin'`: each endpoint in turn (smooth weighted round-robin: over 3 endpoints of equal
 *   weight, 30 calls go 10/10/10);
 * - `'random'`: at random, in proportion to weight;
 * - `'least-outstanding'`: the better of two picked at random, by calls in flight per weight (the
 *   power of two choices);
 * - `'latency'`: the better of two, by a peak-EWMA of their latency times their calls in flight, per
 *   weight (as Finagle and linkerd balance);
 * - `'weighted-round-robin'`: each endpoint in turn, weighted by what its load reports say it can take
 *   (gRFC A58: queries per second over utilization, errors as a penalty; see
 *   `weightedRoundRobin` in the Balancer's options);
 * - a {@link Picker} of your own.
 */
export type Strategy<T> =
  'round-robin' | 'random' | 'least-outstanding' | 'latency' | 'weighted-round-robin' | Picker<T>;
