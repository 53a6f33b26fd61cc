import type { EndpointState } from './EndpointState';
import type { Maintenance } from './Maintenance';

/** An endpoint's metadata: a plain JSON object, stored as the value of its key. */
export type Metadata = { readonly [key: string]: unknown };

/**
 * One live instance of a service: where it listens, what it says about itself, and whether it takes new
 * calls.
 *
 * @example
 * ```ts
 * const endpoint: Endpoint = { service: 'web', address: '10.0.0.7:8080', metadata: { zone: 'a' } };
 * ```
 */
export interface Endpoint {
  /** The service's name, e.g. `data-access`. */
  readonly service: string;
  /** Where the instance listens, `host:port`, e.g. `172.16.28.24:10000`. */
  readonly address: string;
  /** JSON metadata; absent when the key's value is empty (the Go gsr never writes any). */
  readonly metadata?: Metadata;
  /**
   * Whether it takes new calls, in the lists gsr gives: absent while it is serving (every endpoint the
   * Go gsr writes), else `'draining'` (its process is shutting down: `registry.drain()`), `'failing'`
   * (its health check fails), `'maintenance'` (an operator took it out: `gsr drain`) or `'lost'` (its
   * key vanished unplanned, kept as the last resort). Read it with {@link endpointState}. Not given to
   * `register()`: drain, checks, operators and lists set it.
   */
  readonly state?: EndpointState;
  /** While an operator has it in maintenance: why, and since when. */
  readonly maintenance?: Maintenance;
}
