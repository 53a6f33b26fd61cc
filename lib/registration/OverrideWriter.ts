import type { Endpoint } from '../endpoint/Endpoint';
import { encodeMaintenance, validateReason } from '../endpoint/maintenanceCodec';
import { PreconditionError } from '../errors/PreconditionError';
import type { EtcdContext } from '../etcd/EtcdContext';
import { retryUntilClosed } from '../etcd/retryEtcd';
import type { KeyLayout } from '../keys/KeyLayout';

/** etcd's lease id for a key bound to no lease: an override outlives every process. */
const NO_LEASE = '0';

/** What an override writer reads back: the overrides now, by service and address, and their limits. */
interface OverrideReads {
  overrides(): Promise<{
    get(service: string): ReadonlyMap<string, unknown> | undefined;
    refusal(service: string): string | undefined;
  }>;
}

/**
 * Writes operators' overrides (`gsr drain`, `registry.drain(service, address)`): validated by the
 * codec, keyed by the layout, with no lease, and refused before anything is written when one more would
 * exceed the limits that make readers ignore them. Reading them, and the one rule of maintenance, are
 * discovery's (`OverrideList`, `overridden`).
 * @internal
 */
export class OverrideWriter {
  readonly #context: EtcdContext;
  readonly #layout: KeyLayout;
  readonly #reads: OverrideReads;

  constructor(context: EtcdContext, layout: KeyLayout, reads: OverrideReads) {
    this.#context = context;
    this.#layout = layout;
    this.#reads = reads;
  }

  /**
   * Puts an operator's override of `service`'s `address`, or deletes it when `maintenance` is
   * `undefined`; resolves once etcd confirmed it.
   */
  async set(
    service: unknown,
    address: unknown,
    maintenance: { readonly reason: unknown } | undefined,
  ): Promise<void> {
    const valid: Endpoint = this.#layout.validateEndpoint({ service, address });
    const key = this.#layout.overrideKey(valid);
    const value =
      maintenance &&
      encodeMaintenance({
        reason: validateReason(maintenance.reason),
        since: new Date(this.#context.clock.now()).toISOString(),
      });
    const description = `${value === undefined ? 'clear' : 'set'} maintenance of ${key}`;
    if (value !== undefined) {
      await this.#checkRoomFor(valid.service, valid.address);
    }
    await retryUntilClosed(this.#context, { key, description }, async () => {
      await (value === undefined
        ? this.#context.etcd.deleteKey(key)
        : this.#context.etcd.putAll([{ key, value, lease: NO_LEASE }]));
    });
  }

  /**
   * Refuses an override that would not apply: one more than the limits allow turns off every override
   * it counts with, the operator's own among them. A user that may not read overrides is not checked.
   */
  async #checkRoomFor(service: string, address: string): Promise<void> {
    const overrides = await this.#reads.overrides().catch(() => undefined);
    const refusal =
      overrides?.get(service)?.has(address) === true ? undefined : overrides?.refusal(service);
    if (refusal !== undefined) {
      throw new PreconditionError(
        `put ${service} ${address} in maintenance`,
        `${refusal}; clear some first (gsr overrides lists them, gsr undrain clears one)`,
      );
    }
  }
}
