import type { Endpoint } from '../endpoint/Endpoint';
import type { Maintenance } from '../endpoint/Maintenance';

/**
 * `list` with the endpoints that `overrides` (one service's, by address) puts in maintenance: a new
 * frozen array, or `list` itself when the service has no overrides.
 * @internal
 */
export function applyOverrides(
  list: readonly Endpoint[],
  overrides: ReadonlyMap<string, Maintenance> | undefined,
): readonly Endpoint[] {
  if (overrides === undefined) {
    return list;
  }
  return Object.freeze(list.map((endpoint) => overridden(endpoint, overrides)));
}

/**
 * The one rule of maintenance: an endpoint an operator's override names is in maintenance, with the
 * override's reason, whatever its key says; any other is as its key says.
 * @internal
 */
export function overridden(
  endpoint: Endpoint,
  overrides: ReadonlyMap<string, Maintenance> | undefined,
): Endpoint {
  const maintenance = overrides?.get(endpoint.address);
  return maintenance === undefined
    ? endpoint
    : Object.freeze({ ...endpoint, state: 'maintenance' as const, maintenance });
}
