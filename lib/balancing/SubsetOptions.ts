import type { Observable } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';

/**
 * Deterministic subsetting (Finagle's deterministic aperture): each client talks to about `size`
 * servers instead of all of them, chosen from its place among its peers so that every server gets the
 * same share of clients and load. See the README's Load balancing section for the ring.
 *
 * @example
 * ```ts
 * const balancer = new Balancer(registry.endpoints$('api'), {
 *   subset: { size: 10, self: myAddress, peers$: registry.endpoints$('web') },
 * });
 * ```
 */
export interface SubsetOptions {
  /** How many servers each client talks to (the aperture may take fractions of two at its edges). */
  readonly size: number;
  /** This client's address, as its own service lists it in `peers$`. */
  readonly self: string;
  /** The client service's own endpoints: this client and its peers. */
  readonly peers$: Observable<readonly Endpoint[]>;
}
