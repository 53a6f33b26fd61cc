import { defer, map, type OperatorFunction } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import type { EndpointChanges } from './EndpointChanges';

/**
 * Folds a stream of changes back into the list, for consumers whose own protocol takes whole lists (a
 * grpc-js resolver's listener, the dashboard's events): each change costs what changed to apply, and the
 * list is made (sorted by address) only when the consumer takes it, after any throttling.
 * @internal
 */
export function foldChanges(): OperatorFunction<EndpointChanges, () => readonly Endpoint[]> {
  return (source) =>
    defer(() => {
      const byAddress = new Map<string, Endpoint>(); // Each subscription's own.
      return source.pipe(
        map(({ added, removed, updated }) => {
          removed.forEach((endpoint) => byAddress.delete(endpoint.address));
          added.forEach((endpoint) => byAddress.set(endpoint.address, endpoint));
          updated.forEach((endpoint) => byAddress.set(endpoint.address, endpoint));
          return () =>
            [...byAddress.values()].sort((a, b) =>
              a.address < b.address ? -1 : a.address > b.address ? 1 : 0,
            );
        }),
      );
    });
}
