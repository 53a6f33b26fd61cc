import type { Endpoint } from '../endpoint/Endpoint';
import type { EndpointState } from '../endpoint/EndpointState';

/**
 * An endpoint written to etcd: what a {@link Registry.register} subscription emits each time the
 * endpoint's key was (re)written: on first registration, on each change of its state, and again after
 * a lost key was written back.
 */
export interface Registration {
  /** The endpoint as registered. */
  readonly endpoint: Endpoint;
  /**
   * Its etcd key: `<prefix>services/<service>/<address>` in gsr's layout, `<prefix><target>/<address>`
   * under etcd's naming layout.
   */
  readonly key: string;
  /** The lease the key is bound to (decimal; etcd's lease ids are 64-bit). */
  readonly leaseId: string;
  /**
   * `false` for the first write and for changes of state; `true` when the key was written again because
   * it was lost: its lease expired (during a partition), was revoked or went with etcd's data, or someone
   * deleted or overwrote the key.
   */
  readonly reregistered: boolean;
  /**
   * The state the key now says: `'serving'`, `'draining'` (after `registry.drain()`) or `'failing'`
   * (its health check fails). A subscription emits again on each change.
   */
  readonly state: Exclude<EndpointState, 'maintenance'>;
}
