import type { EndpointLocality, Locality } from './Locality';

/**
 * An endpoint's priority for one caller: the one its metadata declares, else one derived from where it
 * is against where the caller is:
 *
 * | caller knows                        | 0                          | 1              | 2         |
 * |-------------------------------------|----------------------------|----------------|-----------|
 * | its zone, not its callers           | same zone (or none named)  | same region    | elsewhere |
 * | its zone and its callers            | same region (or none)      | other regions  |           |
 * | nothing                             | every endpoint             |                |           |
 *
 * With its callers known, zones of one region share priority 0, and zone-aware routing spreads calls
 * over them by capacity: "my zone first" at priority 0 would overload a zone with few endpoints and
 * many callers. An endpoint that names no zone (or region) is never put behind ones that do: it is
 * balanced as if the policy did not know it.
 *
 * @example
 * ```ts
 * priorityOf({ zone: 'b', region: 'eu' }, { zone: 'a', region: 'eu' }, false); // 1: same region
 * ```
 */
export function priorityOf(
  endpoint: EndpointLocality,
  caller: Locality,
  zoneAware: boolean,
): number {
  if (endpoint.priority !== undefined) {
    return endpoint.priority;
  }
  const sameRegion =
    caller.region === undefined ||
    endpoint.region === undefined ||
    endpoint.region === caller.region;
  if (zoneAware) {
    return sameRegion ? 0 : 1;
  }
  if (caller.zone === undefined && caller.region === undefined) {
    return 0;
  }
  if (endpoint.zone === undefined || caller.zone === undefined || endpoint.zone === caller.zone) {
    return sameRegion ? 0 : 2;
  }
  return sameRegion ? 1 : 2;
}
