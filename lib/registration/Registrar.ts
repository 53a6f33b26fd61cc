import { defer, Observable } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import type { OwnState } from '../endpoint/ownState';
import { readEndpoint } from '../endpoint/validateEndpoint';
import { isEtcdUnavailableError } from '../errors/EtcdUnavailableError';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdContext } from '../etcd/EtcdContext';
import { abortable } from '../etcd/abortable';
import type { PendingWork } from '../etcd/PendingWork';
import { EtcdFailure } from '../etcd/EtcdFailure';
import { retryEtcd, retryUntilClosed } from '../etcd/retryEtcd';
import type { KeyLayout } from '../keys/KeyLayout';
import { HealthCheck } from './HealthCheck';
import { type Holder, KeyRecord } from './KeyRecord';
import { PutBatcher, type PutOutcome } from './PutBatcher';
import { healthCheckSettings } from './RegisterOptions';
import type { Registration } from './Registration';
import { judgeKey } from './judgeKey';
import { KeyGuards, type WatchedKeys } from './KeyGuards';
import { KeyRemoval } from './KeyRemoval';
import { OwnLeases } from './OwnLeases';
import { ownValue } from './ownValue';
import { SharedLease } from './SharedLease';

/**
 * The registration half of a registry. Its promise: **while at least one registration of an endpoint is
 * live, its key exists, with its value and one of this registry's leases** (or another live owner's),
 * whatever other registries, operators and leases do.
 *
 * - Each key is a {@link KeyRecord} whose loop writes it on the registry's shared lease with the value of
 *   its latest live registration, and, when the last one ends, deletes it: in one revocation of the
 *   lease when the registry has no registration left, else only while it is bound to our lease or to
 *   none (another process may have registered the same address since).
 * - A new lease (the old one was lost) writes every key again.
 * - Each registry watches the services it registers in, through discovery's shared list (one watch per
 *   service, shared with `endpoints$`), and observes each of its keys there: a key it wrote that etcd no
 *   longer holds (deleted by hand, or by another registry that registered the same address and left), or
 *   that someone overwrote without a lease (an operator's `etcdctl put`), is written again, value and
 *   lease. A key held under another live lease is left alone: no ping-pong with a live owner.
 * - No lease outlives the registrations: with none left, the lease is revoked, and a grant still in
 *   flight is revoked when it is answered.
 * @internal
 */
export class Registrar {
  readonly #context: EtcdContext;
  readonly #layout: KeyLayout;
  readonly #pending: PendingWork;
  readonly #lease: SharedLease;
  readonly #puts: PutBatcher;
  readonly #ttlSeconds: number;
  readonly #records = new Map<string, KeyRecord>();
  readonly #guards: KeyGuards;
  /** Live registrations across all keys: the lease is released when it drops to 0. */
  #live = 0;
  /** How keys go: marked leaving, then deleted, or revoked with the lease. */
  readonly #removal: KeyRemoval;
  /** The leases this registry wrote keys on lately: a key found on one of them is ours. */
  readonly #ownLeases = new OwnLeases();
  /** Since `drain()`: every key says draining, those registered later too. */
  #draining = false;
  /** Whether each write carries its time, for readers' propagation histogram (`GSR_STAMP_WRITES`). */
  readonly #stampWrites: boolean;

  /** Registers with `context`'s etcd in `layout`'s keys; guards them with `keys`' live lists. */
  constructor(
    context: EtcdContext,
    layout: KeyLayout,
    keys: WatchedKeys,
    leaseSeconds: number,
    pending: PendingWork,
    options: { readonly stampWrites?: boolean } = {},
  ) {
    this.#stampWrites = options.stampWrites ?? false;
    this.#context = context;
    this.#layout = layout;
    this.#guards = new KeyGuards(keys, context.logger);
    this.#pending = pending;
    this.#ttlSeconds = leaseSeconds;
    this.#lease = new SharedLease(context, leaseSeconds, () => {
      this.#records.forEach((record) => this.#converge(record));
    });
    this.#puts = new PutBatcher(context);
    this.#removal = new KeyRemoval({
      context,
      layout,
      puts: this.#puts,
      ownLeases: this.#ownLeases,
      ttlSeconds: leaseSeconds,
      lastOne: () => this.#live === 0,
      holds: (lease) => this.#lease.holds(lease),
      releaseLease: () => this.#releaseLease(),
    });
  }

  register(endpoint: Endpoint, options?: unknown): Observable<Registration> {
    return defer(() => {
      const valid = this.#layout.validateEndpoint(endpoint);
      const settings = healthCheckSettings(options);
      const key = this.#layout.endpointKey(valid);
      if (this.#context.closing.aborted) {
        throw new RegistryClosedError(`register ${key}`);
      }
      return new Observable<Registration>((subscriber) => {
        const record = this.#recordOf(key, valid);
        const check =
          settings &&
          new HealthCheck(settings, this.#context.clock, (state, reason, first) => {
            if (state === 'failing') {
              this.#context.logger.warn(
                `${key} fails its health check (${reason ?? 'failed'}); marking it failing`,
              );
            } else if (!first) {
              this.#context.logger.warn(`${key} passes its health check again; marking it serving`);
            }
            this.#update(record, holder);
          });
        const holder: Holder = {
          subscriber,
          endpoint: valid,
          check,
          state: 'serving',
          value: undefined,
          sent: 0,
        };
        this.#update(record, holder, false);
        record.holders.push(holder);
        this.#live += 1;
        this.#context.metrics.liveRegistrations.add(1);
        check?.start();
        this.#converge(record);
        return () => {
          check?.stop();
          const index = record.holders.indexOf(holder);
          if (index < 0) {
            return;
          }
          record.holders.splice(index, 1);
          this.#live -= 1;
          this.#context.metrics.liveRegistrations.add(-1);
          if (record.holders.length === 0) {
            record.abort.abort(); // A write still being retried is moot now.
          }
          // A tick later: when every registration leaves at once (a shutdown), the lease's revocation
          // deletes all their keys in one request, and none needs a delete of its own.
          queueMicrotask(() => this.#converge(record));
        };
      });
    });
  }

  /**
   * Marks every key of this registry draining, those registered later too, and resolves once etcd
   * confirmed each (or it was given up: its registrations errored or left); rejects with the signal's
   * reason when `signal` aborts first. Resolves with how many keys it drained.
   */
  async drain(signal?: AbortSignal): Promise<number> {
    this.#draining = true;
    const records = [...this.#records.values()].filter((record) => record.holders.length > 0);
    for (const record of records) {
      record.holders.forEach((holder) => this.#update(record, holder, false));
      this.#converge(record);
    }
    await abortable(Promise.all(records.map((record) => settledOf(record))), signal);
    return records.length;
  }

  /** The endpoints this registry holds live registrations of, oldest first. */
  registered(): Endpoint[] {
    return [...this.#records.values()].flatMap((record) =>
      record.holders.map((holder) => holder.endpoint),
    );
  }

  /** Whether `drain()` was called. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Works out the state and value `holder` wants from the registry's drain and its check, and, when
   * `converge`, has the key brought to it.
   */
  #update(record: KeyRecord, holder: Holder, converge = true): void {
    const health = holder.check === undefined ? 'serving' : holder.check.state;
    if (health === undefined && !this.#draining) {
      return; // Its first check has not settled: nothing to write yet.
    }
    const state: OwnState = this.#draining ? 'draining' : (health ?? 'serving');
    const { endpoint } = holder;
    holder.state = state;
    holder.value = ownValue(this.#layout, endpoint, state);
    if (converge) {
      this.#converge(record);
    }
  }

  async unregister(endpoint: Pick<Endpoint, 'service' | 'address'>): Promise<void> {
    const { service, address } = readEndpoint(endpoint);
    const valid = this.#layout.validateEndpoint({ service, address });
    const key = this.#layout.endpointKey(valid);
    const record = this.#records.get(key);
    if (record !== undefined) {
      const removed = record.removed();
      // Completing them runs their teardowns, the last of which lets the loop delete the key.
      [...record.holders].forEach((holder) => holder.subscriber.complete());
      this.#converge(record);
      return removed;
    }
    await retryUntilClosed(this.#context, { key, description: `unregister ${key}` }, () =>
      this.#context.etcd.deleteKey(key),
    );
  }

  /**
   * Ends every registration and waits until their keys are deleted and the lease revoked (each tried
   * once: the registry is closing); resolves with the keys etcd did not confirm deleted, which expire
   * with their lease, and the failure of the first.
   */
  async close(): Promise<{ readonly keys: readonly string[]; readonly cause: unknown }> {
    for (const record of [...this.#records.values()]) {
      record.abort.abort();
      [...record.holders].forEach((holder) => holder.subscriber.complete());
    }
    await new Promise<void>((resolve) => queueMicrotask(resolve)); // The teardowns' loops start.
    await this.#pending.drain();
    await this.#releaseLease();
    this.#guards.close();
    return this.#removal.unconfirmed();
  }

  /** Revokes the lease (and one still being granted); a failure is logged: it expires by itself. */
  async #releaseLease(): Promise<string | undefined> {
    try {
      return await this.#lease.release();
    } catch (error) {
      this.#context.logger.warn(
        `could not revoke the lease; it expires within ${this.#ttlSeconds}s`,
        { cause: error },
      );
      return undefined;
    }
  }

  #recordOf(key: string, endpoint: Endpoint): KeyRecord {
    let record = this.#records.get(key);
    if (record === undefined) {
      record = new KeyRecord(key, endpoint);
      this.#records.set(key, record);
      this.#guards.guard(record, (seen) => this.#judge(seen));
    }
    if (record.abort.signal.aborted) {
      record.abort = new AbortController();
    }
    return record;
  }

  /** Runs the record's loop, or asks the running one to go round once more. */
  #converge(record: KeyRecord): void {
    if (record.converging !== undefined) {
      record.again = true;
      return;
    }
    const loop = (async () => {
      record.again = true;
      while (record.again) {
        record.again = false;
        if (record.wanted !== undefined) {
          await this.#write(record);
        } else if (record.holders.length === 0) {
          await this.#removal.remove(record);
        }
      }
    })().finally(() => {
      record.converging = undefined;
      if (record.again) {
        // Asked after the loop's last round but before this callback (a health check that threw at
        // once reports a tick after the loop found nothing to write): not lost, run again.
        this.#converge(record);
        return;
      }
      if (record.holders.length === 0 && record.written === undefined) {
        this.#forget(record);
      }
      if (this.#live === 0) {
        // Also when no key was written (the registration left while its lease was being granted, and
        // the grant went on for the loop still waiting): no lease outlives the registrations.
        this.#pending.track(this.#releaseLease());
      }
    });
    record.converging = loop;
    this.#pending.track(loop);
  }

  /**
   * Writes the key as its latest registration wants it, on the current lease, unless etcd has it so or
   * another live lease holds it.
   */
  async #write(record: KeyRecord): Promise<void> {
    let lease: string;
    try {
      lease = await this.#lease.id();
    } catch (error) {
      record.fail(error);
      return;
    }
    const wanted = record.wanted;
    if (wanted?.value === undefined) {
      record.again = true; // It left meanwhile: remove instead.
      return;
    }
    const { value, state, endpoint } = wanted;
    const { written } = record;
    if (
      record.foreign ||
      (written?.lease === lease && written.value === value && written.revision !== undefined)
    ) {
      record.announce(false, false);
      return;
    }
    if (record.abort.signal.aborted) {
      record.abort = new AbortController();
    }
    const { abort, key } = record;
    let sent = value;
    // Written only over a key of ours, or none: never over another live registration of the address.
    let guard = this.#ownLeases.ownedUnder(lease, record.seen?.entry?.lease);
    let sentAfter = record.observed; // The attempt's: what is seen later may follow its answer.
    const put = async (): Promise<PutOutcome> => {
      if (!this.#lease.holds(lease)) {
        // Given up (no keepalive answered for a TTL) while this write was retried: etcd may hold it
        // still (or again, restored), but nothing renews it. The write goes round on the new one.
        throw new EtcdFailure('lease-not-found', `lease ${lease} was given up`);
      }
      // Each attempt stamped when sent: readers measure how long etcd and their watch took.
      // Whole ms, as readers take a stamp.
      sent = this.#stampWrites
        ? ownValue(this.#layout, endpoint, state, Math.floor(this.#context.clock.now()))
        : value;
      sentAfter = record.observed;
      const outcome = await this.#puts.put(key, sent, lease, guard).catch((error: unknown) => {
        if (this.#leaseLost(error, key)) {
          abort.abort(); // Wait for the replacement lease instead of retrying this one.
          this.#lease.invalidate(lease);
        }
        throw error;
      });
      const { heldBy } = outcome;
      if (heldBy !== undefined && this.#ownLeases.has(heldBy) && !guard.includes(heldBy)) {
        guard = [...guard, heldBy]; // An old lease of ours (a lost answer, a restore): still ours.
        return put();
      }
      return outcome;
    };
    // Announced before, and now gone, overwritten or on a lost lease: written again, not updated.
    const rewrite =
      (record.lost || written === undefined || written.lease !== lease) &&
      record.holders.some((holder) => holder.sent > 0);
    // Until etcd answers, the key may or may not hold this: removing it must then make sure.
    const after = record.observed;
    record.written = { value, state, lease, revision: undefined, after };
    this.#ownLeases.wrote(lease);
    try {
      const { revision, heldBy } = await retryEtcd(
        this.#context,
        { key, description: `register ${key}` },
        put,
        abort.signal,
      );
      if (heldBy !== undefined) {
        this.#leaveTo(record, heldBy, sentAfter);
        return;
      }
      record.written = {
        value,
        state,
        lease,
        revision,
        after,
        ...(sent === value ? {} : { sent }),
      };
      record.lost = false;
      if (rewrite) {
        this.#context.metrics.rewrites.add(1);
      }
      if (this.#context.logger.isDebugEnabled()) {
        this.#context.logger.debug(`registered ${key} on lease ${lease}`);
      }
      record.announce(true, rewrite);
      this.#judge(record); // What etcd was seen to hold after this write, if anything.
    } catch (error) {
      if (isEtcdUnavailableError(error) || this.#leaseLost(error, key)) {
        // Moot (its registrations left, the lease was lost) or the registry is closing: go round again.
        record.again = !this.#context.closing.aborted || record.holders.length === 0;
      } else {
        record.fail(error);
      }
    }
  }

  /** Whether the one classifier says `error` lost the lease (the write goes again on a new one). */
  #leaseLost(error: unknown, key: string): boolean {
    return (
      this.#context.verdict(error, { key, description: `register ${key}` }).kind === 'lease-lost'
    );
  }

  /**
   * etcd found the key bound to another live lease (`heldBy`) and left our write unwritten: someone
   * else registered the address. Left to them until their key goes: seen gone after the write was sent
   * (`sentAfter`, an observation: one seen before the answer may follow it), it is written again.
   */
  #leaveTo(record: KeyRecord, heldBy: string, sentAfter: number): void {
    record.written = undefined;
    record.foreign = true;
    record.foreignAfter = sentAfter;
    this.#context.logger.info(
      `${record.key} is held by lease ${heldBy} (registered elsewhere too); leaving it to that lease until it goes`,
    );
    this.#judge(record); // Seen gone already, meanwhile.
  }

  /** Acts on what etcd was seen to hold at the record's key ({@link judgeKey}). */
  #judge(record: KeyRecord): void {
    const verdict = judgeKey(record, (lease) => this.#ownLeases.has(lease));
    const { logger } = this.#context;
    switch (verdict.kind) {
      case 'nothing':
        return;
      case 'foreign':
        logger.info(
          `${record.key} is now held by lease ${verdict.lease} (registered elsewhere too); leaving it to that lease`,
        );
        return;
      case 'reclaim':
        if (record.holders.length > 0) {
          logger.warn(
            `${record.key} is no longer held by the other lease while registered here; writing it`,
          );
          this.#converge(record);
        }
        return;
      case 'rewrite':
        if (record.holders.length > 0) {
          logger.warn(`${record.key} was ${verdict.what} while registered here; writing it again`);
          this.#converge(record);
        }
    }
  }

  #forget(record: KeyRecord): void {
    if (this.#records.get(record.key) !== record) {
      return;
    }
    this.#records.delete(record.key);
    this.#guards.release(record);
  }
}

/** Resolves once the record's loop has nothing left to do. */
async function settledOf(record: KeyRecord): Promise<void> {
  while (record.converging !== undefined) {
    await record.converging;
  }
}
