import type { Endpoint } from '../endpoint/Endpoint';

/** A key and its value, as etcd sends them: bytes, written by anyone. @internal */
export interface KeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
}

/**
 * What an entry under a service's prefix is: an endpoint (with a `warning` when part of it, such as its
 * metadata, had to be dropped), or an entry to `skip` (with the reason, for one log line).
 * @internal
 */
export type DecodedEntry =
  | {
      readonly endpoint: Endpoint;
      readonly warning?: string;
      /** When the writer stamped it (`GSR_STAMP_WRITES`): epoch ms on the writer's clock. */
      readonly writtenAt?: number;
    }
  | { readonly skip: string };

/**
 * Where a registry keeps endpoints in etcd and how it reads and writes them: gsr's own layout, or etcd's
 * naming layout. Every byte it reads was written by someone else: decoding never throws.
 * @internal
 */
export interface KeyLayout {
  /** Checks a service name given by a user. @throws ValidationError naming `field`. */
  validateService(service: unknown, field?: string): string;
  /** Checks an endpoint given by a user. @throws ValidationError naming the field. */
  validateEndpoint(endpoint: unknown): Endpoint;
  /** The prefix of one service's keys, and of nothing else: it ends in `/`. */
  servicePrefix(service: string): string;
  /** The key an endpoint is registered under. */
  endpointKey(endpoint: Pick<Endpoint, 'service' | 'address'>): string;
  /** The value an endpoint is registered with. */
  encodeValue(endpoint: Endpoint): string;
  /**
   * An entry under `servicePrefix(service)` read back: `id` is the rest of its key (valid UTF-8, else it
   * never gets here), `value` its bytes.
   */
  decodeEntry(service: string, id: string, value: Buffer): DecodedEntry;
  /**
   * The prefix of operators' overrides (`gsr drain`): `<overridesPrefix><service>/<address>`, apart
   * from the endpoints' own keys, so that what an instance writes never erases them.
   */
  readonly overridesPrefix: string;
  /** The key of an operator's override of `endpoint`: `<overridesPrefix><service>/<address>`. */
  overrideKey(endpoint: Pick<Endpoint, 'service' | 'address'>): string;
  /** The prefix of every service's keys, for `services$()`; `undefined` when the layout has none. */
  readonly servicesPrefix: string | undefined;
  /**
   * The service an entry under {@link KeyLayout.servicesPrefix} belongs to, and its endpoint's id, or
   * why it is skipped; a layout without a services root has none.
   */
  serviceOfEntry?(
    entry: KeyValue,
  ): { readonly service: string; readonly id: string } | { readonly skip: string };
  /** Whether an endpoint's id (the rest of its key) is always its address, as in gsr's layout. */
  readonly idIsAddress: boolean;
  /** A prefix whose keys gsr must be able to read, for `connect()`'s probe. */
  readonly probePrefix: string;
  /**
   * Whether a probe of {@link KeyLayout.probePrefix} may be denied to a user who can still read the
   * services it uses (etcd's naming layout at the root of the keyspace): a denial then proves etcd
   * answers, and no more.
   */
  readonly probeMayBeDenied: boolean;
}
