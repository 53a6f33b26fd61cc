import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdContext } from '../etcd/EtcdContext';
import { retryEtcd } from '../etcd/retryEtcd';
import type { KeyLayout } from '../keys/KeyLayout';
import type { KeyRecord } from './KeyRecord';
import type { OwnLeases } from './OwnLeases';
import { ownValue } from './ownValue';
import type { PutBatcher } from './PutBatcher';

/** etcd's lease id for a key bound to no lease. */
const NO_LEASE = '0';

/**
 * How a registry's keys go once no registration wants them: each is first marked leaving (its value
 * says draining, so that readers tell a planned departure from an expiry), then deleted while bound to
 * one of our leases or to none (another process may hold the address by now), or with every other key
 * in the lease's revocation when it was the registry's last. What etcd did not confirm is remembered,
 * for `close()` to say.
 * @internal
 */
export class KeyRemoval {
  readonly #context: EtcdContext;
  readonly #layout: KeyLayout;
  readonly #puts: PutBatcher;
  readonly #ownLeases: OwnLeases;
  readonly #ttlSeconds: number;
  readonly #lastOne: () => boolean;
  readonly #holds: (lease: string) => boolean;
  readonly #releaseLease: () => Promise<string | undefined>;
  /** Keys whose removal etcd did not confirm (they expire with their lease), with why. */
  readonly #unconfirmed = new Map<string, unknown>();

  constructor(options: {
    readonly context: EtcdContext;
    readonly layout: KeyLayout;
    readonly puts: PutBatcher;
    readonly ownLeases: OwnLeases;
    readonly ttlSeconds: number;
    /** Whether the registry has no registration left: the lease's revocation deletes every key. */
    readonly lastOne: () => boolean;
    /** Whether the registry still holds `lease` (it gives up one that goes unrenewed). */
    readonly holds: (lease: string) => boolean;
    /** Revokes the lease; resolves with its id, or `undefined` when it could not. */
    readonly releaseLease: () => Promise<string | undefined>;
  }) {
    this.#context = options.context;
    this.#layout = options.layout;
    this.#puts = options.puts;
    this.#ownLeases = options.ownLeases;
    this.#ttlSeconds = options.ttlSeconds;
    this.#lastOne = options.lastOne;
    this.#holds = options.holds;
    this.#releaseLease = options.releaseLease;
  }

  /** The keys etcd did not confirm deleted, and the failure of the first. */
  unconfirmed(): { readonly keys: readonly string[]; readonly cause: unknown } {
    return { keys: [...this.#unconfirmed.keys()], cause: this.#unconfirmed.values().next().value };
  }

  /** Deletes the key, which no registration of this registry wants any more, if we wrote it. */
  async remove(record: KeyRecord): Promise<void> {
    const { written, key } = record;
    if (written === undefined) {
      if (record.unregistered) {
        await this.#removeUnowned(record);
      } else {
        record.settleRemoval();
      }
      return;
    }
    const { logger, etcd } = this.#context;
    try {
      await this.#markLeaving(record);
      const leaving = record.written; // The mark, or as it was when the mark failed.
      // The last registration of the registry: one revocation deletes every key bound to the lease.
      const revoked = this.#lastOne() ? await this.#releaseLease() : undefined;
      // Unless etcd was last seen to hold it on that lease: someone may have put it without one. What
      // was seen may be old (a put while etcd was cut off): `unregister()` promises the key is gone, so
      // it deletes all the same.
      if (
        record.unregistered ||
        revoked !== written.lease ||
        record.seen?.entry?.lease !== written.lease
      ) {
        // Only while bound to our lease or to none: another process may have registered the address.
        await retryEtcd(
          this.#context,
          { key, description: `unregister ${key}` },
          () =>
            etcd.deleteKey(
              key,
              this.#ownLeases.ownedUnder(written.lease, record.seen?.entry?.lease),
            ),
          this.#context.closing,
        );
      }
      if (record.written === leaving) {
        record.written = undefined;
      }
      this.#unconfirmed.delete(key);
      if (logger.isDebugEnabled()) {
        logger.debug(`deregistered ${key}`);
      }
      record.settleRemoval();
    } catch (error) {
      record.written = undefined; // Given up: it expires with the lease.
      this.#unconfirmed.set(key, error);
      logger.warn(
        `could not deregister ${key}; it expires with lease ${written.lease} within ${this.#ttlSeconds}s`,
        { cause: error },
      );
      record.settleRemoval(
        this.#context.closing.aborted ? new RegistryClosedError(`unregister ${key}`) : error,
      );
    }
  }

  /**
   * `unregister()` of a key this registry holds no write of: it goes while it is bound to no lease
   * (nobody's live registration), as the Go gsr's Unregister deletes the key.
   */
  async #removeUnowned(record: KeyRecord): Promise<void> {
    const { key } = record;
    try {
      await retryEtcd(
        this.#context,
        { key, description: `unregister ${key}` },
        () => this.#context.etcd.deleteKey(key, [NO_LEASE]),
        this.#context.closing,
      );
      record.settleRemoval();
    } catch (error) {
      record.settleRemoval(
        this.#context.closing.aborted ? new RegistryClosedError(`unregister ${key}`) : error,
      );
    }
  }

  /**
   * Says the key is leaving before it goes (its value then says draining, as after `drain()`), so that
   * clients tell this planned departure from a lease that expired or a delete by someone else, which
   * they keep for a while as the last resort. Removals asked for together go out in one transaction.
   * One attempt: should it fail, the key goes all the same, and clients take it as unplanned.
   */
  async #markLeaving(record: KeyRecord): Promise<void> {
    const { written, key } = record;
    if (
      written?.revision === undefined ||
      written.state === 'draining' ||
      record.foreign ||
      !this.#holds(written.lease)
    ) {
      return; // Nothing of ours to mark, or on a lease given up: nothing is written on that.
    }
    // As written, read back through the one decoder: what it said, but leaving.
    const { service, address } = record.endpoint;
    const decoded = this.#layout.decodeEntry(service, address, Buffer.from(written.value));
    if (!('endpoint' in decoded)) {
      return;
    }
    const value = ownValue(this.#layout, decoded.endpoint, 'draining');
    const leaving = {
      value,
      state: 'draining' as const,
      lease: written.lease,
      after: record.observed,
    };
    record.written = { ...leaving, revision: undefined }; // Until etcd answers: maybe written.
    try {
      // Only over a key of ours: another process may have registered the address meanwhile.
      const guard = this.#ownLeases.ownedUnder(written.lease, record.seen?.entry?.lease);
      const { revision, heldBy } = await this.#puts.put(key, value, written.lease, guard);
      if (record.written.value === value) {
        record.written = heldBy === undefined ? { ...leaving, revision } : written;
      }
    } catch (error) {
      if (record.written.value === value) {
        record.written = written; // As it was: whatever etcd did with the mark, the key goes next.
      }
      this.#context.logger.debug(`could not mark ${key} leaving before its removal`, {
        cause: error,
      });
    }
  }
}
