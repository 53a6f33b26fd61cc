import type { Subscriber } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import type { OwnState } from '../endpoint/ownState';
import type { EtcdEntry } from '../etcd/EtcdPort';
import type { HealthCheck } from './HealthCheck';
import type { Registration } from './Registration';

/** One live registration of a key in this registry: its subscriber, and what it registered. */
export interface Holder {
  readonly subscriber: Subscriber<Registration>;
  readonly endpoint: Endpoint;
  /** Its health check, if it has one. */
  readonly check: HealthCheck | undefined;
  /** The state it wants in etcd: draining while the registry drains, else its check's verdict. */
  state: OwnState;
  /** The value it wants in etcd; `undefined` until its first health check settled. */
  value: string | undefined;
  /** How many {@link Registration}s it was sent. */
  sent: number;
}

/** What this registry wrote to a key: confirmed by etcd, or sent and maybe applied. */
export interface Written {
  /** The value wanted, as compared with what a registration wants. */
  readonly value: string;
  /** The bytes put, when they differ from `value` (a write stamped with its time). */
  readonly sent?: string;
  readonly state: OwnState;
  readonly lease: string;
  /**
   * The revision the write landed at; `undefined` while unconfirmed: it was sent, and etcd may have
   * applied it without answering (a timeout), so it must be written again, or deleted, to be sure.
   */
  readonly revision: bigint | undefined;
  /**
   * The key's latest observation when the write was sent: what was seen up to it says nothing of the
   * write (an entry read before etcd's store was replaced has revisions ahead of the new store's).
   */
  readonly after: number;
}

/** What etcd was last seen to hold at the key, and at which revision. */
interface Seen {
  readonly entry: EtcdEntry | undefined;
  readonly revision: bigint;
  /** Which observation of the key this is (see {@link KeyRecord.see}). */
  readonly order: number;
}

/** Someone waiting for a key's removal to be confirmed (`unregister`). */
interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One key of this registry: the registrations that want it (the latest one's value is what etcd should
 * hold), what etcd confirmed, what etcd was last seen to hold, and the single loop that brings them
 * together. Everything that concerns the key (a registration arriving or leaving, a new lease, someone
 * else's write) only changes what is wanted or known and asks the loop to run again; the loop never runs
 * twice at once.
 * @internal
 */
export class KeyRecord {
  readonly key: string;
  readonly endpoint: Pick<Endpoint, 'service' | 'address'>;
  /** In subscription order: the last one's value is written. */
  readonly holders: Holder[] = [];
  written: Written | undefined;
  /** What etcd was last seen to hold at the key, and when (in the order of observations). */
  seen: Seen | undefined;
  /**
   * Another live lease holds the key (someone registered the same address since our write): left to
   * it, never fought over, until it goes.
   */
  foreign = false;
  /**
   * The key's latest observation when another lease was found holding it: only what is seen after it
   * can say that lease's key went (in the order seen, not by revision: etcd's store may be replaced).
   */
  foreignAfter = 0;
  /** Someone deleted or overwrote our confirmed write: the next write puts a lost key back. */
  lost = false;
  /** Aborts the write being retried: it became moot (the last registration left), or the registry closes. */
  abort = new AbortController();
  /** The loop, while it runs. */
  converging: Promise<void> | undefined;
  /** Whether the loop must run once more: something changed while it ran. */
  again = false;
  /** Stops watching what etcd holds at the key. */
  unobserve: (() => void) | undefined;
  /** Whether `unregister()` asked for the key's removal (see {@link KeyRecord.removed}). */
  unregistered = false;
  readonly #waiters: Waiter[] = [];

  constructor(key: string, endpoint: Pick<Endpoint, 'service' | 'address'>) {
    this.key = key;
    this.endpoint = endpoint;
  }

  /** The registration whose value the key should hold: the latest that knows its value. */
  get wanted(): Holder | undefined {
    for (let i = this.holders.length - 1; i >= 0; i--) {
      const holder = this.holders[i] as Holder;
      if (holder.value !== undefined) {
        return holder;
      }
    }
    return undefined;
  }

  /** Resolves when the key's removal is confirmed; rejects when it could not be. */
  /** etcd was seen to hold `entry` at the key (nothing: `undefined`), at `revision`. */
  see(entry: EtcdEntry | undefined, revision: bigint): void {
    this.seen = { entry, revision, order: (this.seen?.order ?? 0) + 1 };
  }

  /**
   * The order of the latest observation: a write records it when sent, so that only what was seen
   * after it is judged against it (see `Written.after`).
   */
  get observed(): number {
    return this.seen?.order ?? 0;
  }

  /**
   * Sends a Registration to each holder that knows its value: to all after a write (`rewrite` when it
   * put back a lost key), else to those that have none yet.
   */
  announce(all: boolean, rewrite: boolean): void {
    const { written, key } = this;
    if (written === undefined || this.foreign) {
      return;
    }
    for (const holder of [...this.holders]) {
      if (holder.value !== undefined && (all || holder.sent === 0)) {
        holder.subscriber.next(
          Object.freeze({
            endpoint: holder.endpoint,
            key,
            leaseId: written.lease,
            reregistered: rewrite && holder.sent > 0,
            state: written.state,
          }),
        );
        holder.sent += 1;
      }
    }
  }

  /** Errors every registration of the key with what retrying cannot fix. */
  fail(error: unknown): void {
    [...this.holders].forEach((holder) => holder.subscriber.error(error));
  }

  /**
   * Resolves once the key's removal settled. `unregister()` asks it so: the key then goes also when
   * this registry never wrote it, while it is bound to no lease (an operator's put, say).
   */
  removed(): Promise<void> {
    this.unregistered = true;
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Settles everyone waiting for {@link KeyRecord.removed}: with `error` if it failed. */
  settleRemoval(error?: unknown): void {
    this.unregistered = false;
    for (const waiter of this.#waiters.splice(0)) {
      if (error === undefined) {
        waiter.resolve();
      } else {
        waiter.reject(error);
      }
    }
  }
}
