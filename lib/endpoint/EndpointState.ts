import type { Endpoint } from './Endpoint';

/**
 * Whether an endpoint takes new calls, as every consumer gsr feeds honours it (a `Balancer`, the gRPC
 * resolver, the dashboard, the CLI; Prometheus and xDS as labels and health):
 *
 * - `'serving'`: it does;
 * - `'draining'`: its process is shutting down (`registry.drain()`): it finishes what it has, and gets
 *   new calls only when no endpoint of its service is serving (as Kubernetes uses terminating
 *   endpoints);
 * - `'failing'`: its health check fails: new calls only when none is serving or draining (a check that
 *   fails everywhere is more likely wrong than every instance);
 * - `'maintenance'`: an operator took it out (`gsr drain`): never;
 * - `'lost'`: its key vanished without its instance saying it was leaving (a lease that expired while
 *   the instance was cut off from etcd, a delete by someone else) while its service fell below the
 *   protection threshold: kept for a while as the last resort, when no endpoint is in another state.
 *   A `Balancer` drops it at its first refused connection.
 */
export type EndpointState = 'serving' | 'draining' | 'failing' | 'maintenance' | 'lost';

/**
 * The order in which states are fallen back on when none of the better ones is left; `maintenance` is
 * never picked.
 * @internal
 */
export const PICKABLE_STATES: readonly EndpointState[] = ['serving', 'draining', 'failing', 'lost'];

/**
 * An endpoint's state: `'serving'` unless it says otherwise.
 *
 * @example
 * ```ts
 * const serving = endpoints.filter((endpoint) => endpointState(endpoint) === 'serving');
 * ```
 */
export function endpointState(endpoint: Endpoint): EndpointState {
  return endpoint.state ?? 'serving';
}

/**
 * The endpoints a new call may go to, by state: the serving ones; when none, the draining ones; when
 * none, the failing ones; when none, the lost ones; never those in maintenance. The list itself when
 * all of it is serving.
 * @internal
 */
export function pickableEndpoints(list: readonly Endpoint[]): readonly Endpoint[] {
  return pickable(list, (endpoint) => endpoint);
}

/** {@link pickableEndpoints} of things that each hold an endpoint. @internal */
function pickable<T>(items: readonly T[], endpointOf: (item: T) => Endpoint): readonly T[] {
  if (items.every((item) => endpointOf(item).state === undefined)) {
    return items; // Every endpoint serving: the common case, without a copy.
  }
  for (const state of PICKABLE_STATES) {
    const inState = items.filter((item) => endpointState(endpointOf(item)) === state);
    if (inState.length > 0) {
      return inState;
    }
  }
  return [];
}
