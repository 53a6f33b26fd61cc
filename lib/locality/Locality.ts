import type { Observable } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { endpointState } from '../endpoint/EndpointState';
import { showValue } from '../errors/showValue';

/** Where an endpoint or a caller is: its zone and region, each `undefined` when unknown. */
export interface Locality {
  /** The zone (`metadata.zone` of an endpoint), e.g. `eu-west-1a`. */
  readonly zone?: string | undefined;
  /** The region (`metadata.region` of an endpoint), e.g. `eu-west-1`. */
  readonly region?: string | undefined;
}

/**
 * Where a caller is, and its own service's live list (Envoy's "local cluster"): what zone-aware routing
 * weighs zones by. `registry.locality()` gives the registry's own; a Balancer takes it as its
 * `locality` option.
 */
export interface CallerLocality extends Locality {
  /** The live list of the caller's own service: its instances per zone are the callers per zone. */
  readonly callers$?: Observable<readonly Endpoint[]> | undefined;
}

/** The highest priority an endpoint may declare: 0 is the first, as in Envoy. */
export const MAX_PRIORITY = 9;

/** The longest zone or region name read from metadata. */
const MAX_NAME_CHARS = 128;

/** An endpoint's locality and declared priority, as read from its metadata, with what was wrong. */
export interface EndpointLocality extends Locality {
  /** `metadata.priority` when it is a whole number from 0 to {@link MAX_PRIORITY}. */
  readonly priority?: number | undefined;
  /** What in the metadata was not usable (and so was ignored), for one log line; `undefined` when all was. */
  readonly problem?: string | undefined;
}

/**
 * An endpoint's `metadata.zone`, `region` and `priority`. Others wrote them: a zone or region that is
 * not a short printable string, or a priority that is not a whole number from 0 to
 * {@link MAX_PRIORITY}, is read as absent (plain balancing for that endpoint) and named in `problem`.
 *
 * @example
 * ```ts
 * endpointLocality({ service: 'web', address: '10.0.0.7:80', metadata: { zone: 'a', priority: 1 } });
 * // { zone: 'a', region: undefined, priority: 1, problem: undefined }
 * ```
 */
export function endpointLocality(endpoint: Endpoint): EndpointLocality {
  const metadata = endpoint.metadata;
  if (metadata === undefined) {
    return {};
  }
  const problems: string[] = [];
  const zone = localityName(metadata.zone, 'zone', problems);
  const region = localityName(metadata.region, 'region', problems);
  let priority: number | undefined;
  if (metadata.priority !== undefined) {
    const value = metadata.priority;
    if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_PRIORITY) {
      priority = value as number;
    } else {
      problems.push(
        `metadata.priority ${showValue(value, 40)} is not a whole number from 0 to ${MAX_PRIORITY}`,
      );
    }
  }
  return {
    zone,
    region,
    priority,
    problem: problems.length === 0 ? undefined : problems.join('; '),
  };
}

/** A zone or region name: a non-empty printable string of at most 128 characters, else absent. */
function localityName(value: unknown, field: string, problems: string[]): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_NAME_CHARS &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f-\u009f]/.test(value) &&
    value.isWellFormed()
  ) {
    return value;
  }
  problems.push(
    `metadata.${field} ${showValue(value, 40)} is not a printable name of at most ${MAX_NAME_CHARS} characters`,
  );
  return undefined;
}

/**
 * How many endpoints of `list` serve in each zone (`''` for those that name none): the callers per
 * zone that zone-aware routing weighs zones by.
 *
 * @example
 * ```ts
 * servingByZone(webInstances); // Map { 'eu-1a' => 3, 'eu-1b' => 2 }
 * ```
 */
export function servingByZone(list: readonly Endpoint[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const endpoint of list) {
    if (endpointState(endpoint) === 'serving') {
      const zone = endpointLocality(endpoint).zone ?? '';
      counts.set(zone, (counts.get(zone) ?? 0) + 1);
    }
  }
  return counts;
}
