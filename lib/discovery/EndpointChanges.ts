import type { Endpoint } from '../endpoint/Endpoint';

/**
 * What changed in a service's list from one value to the next: the endpoints that came, went, or
 * changed (metadata or state), by address. The first of a stream has every endpoint in `added`.
 *
 * @example
 * ```ts
 * registry.changes$('api').subscribe(({ added, removed, revision }) =>
 *   console.log(`+${added.length} -${removed.length} at revision ${revision ?? '?'}`),
 * );
 * ```
 */
export interface EndpointChanges {
  /** Endpoints whose address was not listed before. */
  readonly added: readonly Endpoint[];
  /** Endpoints no longer listed, as they were. */
  readonly removed: readonly Endpoint[];
  /** Endpoints whose address was listed before, with what they are now. */
  readonly updated: readonly Endpoint[];
  /** The etcd revision the list is etcd's state at after these changes, when it came from a registry. */
  readonly revision?: bigint;
}
