import type { Endpoint } from '../endpoint/Endpoint';

/**
 * An endpoint written to etcd: what a {@link Registry.register} subscription emits each time the
 * endpoint's key was (re)written, on first registration and again after a lost lease was replaced.
 */
export interface Registration {
  /** The endpoint as registered. */
  readonly endpoint: Endpoint;
  /** Its etcd key, `<prefix>services/<service>/<address>`. */
  readonly key: string;
  /** The lease the key is bound to (decimal; etcd's lease ids are 64-bit). */
  readonly leaseId: string;
  /**
   * `false` for the first write; `true` when the key was written again because the lease was lost
   * (expired during a partition, revoked, or gone with etcd's data) and replaced.
   */
  readonly reregistered: boolean;
}
