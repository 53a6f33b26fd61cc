import type { Observable } from 'rxjs';
import type { Endpoint } from './Endpoint';

/** Where a list's service is kept on its Observable: one key for every copy of gsr. */
const SERVICE = Symbol.for('gsr.service');

/**
 * Marks `list$` as the live list of `service` (what `registry.endpoints$(service)` returns), so that a
 * balancer over it can name the service while the list is still empty: in its errors and warnings.
 * @internal
 */
export function markService<T extends Observable<readonly Endpoint[]>>(
  list$: T,
  service: string,
): T {
  return Object.defineProperty(list$, SERVICE, { value: service });
}

/** The service `list$` was marked as the list of, if it was. @internal */
export function listedService(list$: object): string | undefined {
  const service = (list$ as { [SERVICE]?: unknown })[SERVICE];
  return typeof service === 'string' ? service : undefined;
}
