import { defer, map, type OperatorFunction } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import type { EndpointChanges } from './EndpointChanges';
import { changesBetween } from './listChanges';

/**
 * An operator from a stream of lists to what changed in each: the first value has every endpoint in
 * `added`, each next one the endpoints added, removed and updated (by address) since the one before.
 * On a registry's `endpoints$` it costs O(changes) a value, whatever the list's size (the registry
 * records what changed as it applies etcd's events); on any other stream of lists, one comparison by
 * address.
 *
 * @example
 * ```ts
 * registry.endpoints$('api').pipe(changes()).subscribe(({ added, removed }) => {
 *   added.forEach((endpoint) => pool.connect(endpoint.address));
 *   removed.forEach((endpoint) => pool.disconnect(endpoint.address));
 * });
 * ```
 */
export function changes(): OperatorFunction<readonly Endpoint[], EndpointChanges> {
  return (source) =>
    defer(() => {
      let previous: readonly Endpoint[] | undefined; // Each subscription's own.
      return source.pipe(
        map((list) => {
          const changed = changesBetween(previous, list);
          previous = list;
          return changed;
        }),
      );
    });
}
