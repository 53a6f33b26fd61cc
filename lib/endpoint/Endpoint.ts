/** An endpoint's metadata: a plain JSON object, stored as the value of its key. */
export type Metadata = { readonly [key: string]: unknown };

/**
 * One live instance of a service: where it listens, and optionally what it says about itself.
 *
 * @example
 * ```ts
 * const endpoint: Endpoint = { service: 'web', address: '10.0.0.7:8080', metadata: { zone: 'a' } };
 * ```
 */
export interface Endpoint {
  /** The service's name, e.g. `data-access`. */
  readonly service: string;
  /** Where the instance listens, e.g. `172.16.28.24:10000`; any text without `/` or whitespace. */
  readonly address: string;
  /** JSON metadata; absent when the key's value is empty (the Go gsr never writes any). */
  readonly metadata?: Metadata;
}
