import { EtcdFailure } from '../../lib/etcd/EtcdFailure';
import type { EtcdChange, EtcdEntry, PutAnswer, PutOp } from '../../lib/etcd/EtcdPort';
import type { SimClock } from './SimClock';

/** A key as the simulated etcd stores it, with who wrote its current version. */
interface Stored {
  readonly entry: EtcdEntry;
  readonly writer: string;
}

interface Lease {
  readonly id: string;
  readonly ttlMs: number;
  readonly owner: string;
  /** Who granted it (a restored lease keeps its grantor, while its owner may be `'restore'`). */
  readonly grantor: string;
  expiresAt: number;
  readonly keys: Set<string>;
}

/** A watch as the server keeps it: what it covers, and where its events go. */
export interface ServerWatch {
  readonly prefix: Buffer;
  /** Called with the events of each revision that touches the prefix, in order. */
  readonly send: (changes: readonly EtcdChange[]) => void;
}

/** One committed revision: its changes, and who made them. */
export interface Commit {
  readonly revision: bigint;
  readonly changes: readonly EtcdChange[];
  readonly writer: string;
  /**
   * For each change, who granted the live lease its key was bound to before (`undefined`: none), to
   * tell a write over another's live key.
   */
  readonly displaced: readonly (string | undefined)[];
}

/** What `etcdctl snapshot save` keeps of a simulated etcd: its keys, leases and history. */
export interface SimBackup {
  readonly revision: bigint;
  readonly compacted: bigint;
  readonly keys: ReadonlyMap<string, Stored>;
  readonly history: readonly Commit[];
  readonly leases: readonly {
    readonly id: string;
    readonly ttlMs: number;
    readonly owner: string;
    readonly grantor: string;
    readonly keys: readonly string[];
  }[];
}

/** A put as a test may write it: a key or value of any bytes. */
type SimPut = Omit<PutOp, 'key' | 'value'> & {
  readonly key: string | Buffer;
  readonly value: string | Buffer;
};

/** etcd's default `--max-txn-ops`: a transaction of more operations is refused whole. */
const MAX_TXN_OPS = 128;
/** etcd's default `--max-request-bytes` (1.5 MiB): a larger request is refused whole. */
const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/**
 * etcd's shortest lease, s: a lease asked for shorter gets this TTL (3/2 of the election timeout of 10
 * heartbeats of 100 ms, rounded up to whole seconds).
 */
const MIN_TTL_SECONDS = 2;
/** How often etcd's lessor looks for expired leases, ms: a lease expires up to this late. */
const EXPIRY_CHECK_MS = 500;

/** A key's bytes as a map key: latin1 keeps every byte distinct. */
const idOf = (key: Buffer): string => key.toString('latin1');

/**
 * The server side of a simulated etcd: one keyspace with revisions, history (for watches that start in
 * the past) until compacted, leases that expire on the virtual clock, and watches that get every event
 * of every revision under their prefix, in order. Every operation is applied at once and atomically;
 * when it is applied, and when its answer arrives, is the {@link SimPort}'s (the network's) business.
 *
 * It behaves like etcd 3.4 where gsr depends on it: a transaction's events share one revision; a
 * revocation deletes every key of the lease at one revision; a put on a lease etcd does not know is
 * refused; a watch from before the compaction revision is cancelled with it (one from exactly it is
 * delivered); a transaction of more than 128 operations, or that names one key twice, is refused.
 */
export class SimEtcd {
  readonly clock: SimClock;
  #revision = 1n;
  #cluster = '14841639068965178418';
  #compacted = 0n;
  readonly #keys = new Map<string, Stored>();
  readonly #history: Commit[] = [];
  readonly #leases = new Map<string, Lease>();
  #nextLease = 0x6a7b_0000n;
  readonly #watches = new Set<ServerWatch>();
  readonly #listeners: ((commit: Commit) => void)[] = [];
  readonly #denied: Buffer[] = [];
  #stopped = false;
  /** How many guarded puts it left unwritten, their key held by a lease they did not allow. */
  heldPuts = 0;

  constructor(clock: SimClock) {
    this.clock = clock;
  }

  get revision(): bigint {
    return this.#revision;
  }

  /** The cluster's id, as every response header carries it. */
  get cluster(): string {
    return this.#cluster;
  }

  get compacted(): bigint {
    return this.#compacted;
  }

  /** Refuses writes under `prefix` from now on, as etcd refuses a user without a role for it. */
  deny(prefix: string): void {
    this.#denied.push(Buffer.from(prefix));
  }

  /** Calls `listener` after every commit (for the simulation's own bookkeeping). */
  onCommit(listener: (commit: Commit) => void): void {
    this.#listeners.push(listener);
  }

  /** The entry at `key` now, and who wrote it. */
  get(key: string | Buffer): Stored | undefined {
    return this.#keys.get(idOf(Buffer.from(key)));
  }

  /** Every key under `prefix` now, sorted by bytes. */
  range(prefix: string | Buffer): readonly EtcdEntry[] {
    const bytes = Buffer.from(prefix);
    return [...this.#keys.values()]
      .map((stored) => stored.entry)
      .filter((entry) => startsWith(entry.key, bytes))
      .sort((a, b) => Buffer.compare(a.key, b.key));
  }

  /** How many keys `prefix` holds, and how many of them were written after `revision`. */
  delta(prefix: string, revision: bigint): { readonly count: number; readonly changed: number } {
    const entries = this.range(prefix);
    return {
      count: entries.length,
      changed: entries.filter((entry) => entry.modRevision > revision).length,
    };
  }

  /**
   * Puts every key in one transaction; a guarded put (`ifLease`) only while its key is bound to one of
   * those leases (an absent key to none, `'0'`, as etcd compares it). Refused whole when a put it makes
   * names a lease etcd does not know.
   */
  putAll(puts: readonly SimPut[], writer: string): PutAnswer {
    if (puts.length > MAX_TXN_OPS) {
      throw new EtcdFailure('invalid', 'etcdserver: too many operations in txn request');
    }
    if (new Set(puts.map(({ key }) => idOf(Buffer.from(key)))).size < puts.length) {
      throw new EtcdFailure('invalid', 'etcdserver: duplicate key given in txn request');
    }
    const bytes = puts.reduce(
      (sum, put) => sum + Buffer.byteLength(put.key) + Buffer.byteLength(put.value),
      0,
    );
    if (bytes > MAX_REQUEST_BYTES) {
      throw new EtcdFailure('invalid', 'etcdserver: request is too large');
    }
    const held = new Map<string, string>();
    const made = puts.filter(({ key, ifLease }) => {
      const lease = this.#keys.get(idOf(Buffer.from(key)))?.entry.lease ?? '0';
      if (ifLease === undefined || ifLease.includes(lease)) {
        return true;
      }
      held.set(key.toString(), lease);
      this.heldPuts += 1;
      return false;
    });
    for (const { key, lease } of made) {
      if (this.#denied.some((prefix) => startsWith(Buffer.from(key), prefix))) {
        throw new EtcdFailure('permission-denied', 'etcdserver: permission denied');
      }
      if (lease !== '0' && !this.#leases.has(lease)) {
        throw new EtcdFailure('lease-not-found', 'etcdserver: requested lease not found');
      }
    }
    if (made.length === 0) {
      return { revision: this.#revision, held };
    }
    const revision = this.#revision + 1n;
    const displaced: (string | undefined)[] = [];
    const changes = made.map(({ key, value, lease }) => {
      const bytes = Buffer.from(key);
      const previous = this.#keys.get(idOf(bytes));
      displaced.push(this.#holderOf(previous));
      this.#unbind(idOf(bytes), previous);
      const entry: EtcdEntry = {
        key: bytes,
        value: Buffer.from(value),
        modRevision: revision,
        version: (previous?.entry.version ?? 0) + 1,
        lease,
      };
      this.#keys.set(idOf(bytes), { entry, writer });
      this.#leases.get(lease)?.keys.add(idOf(bytes));
      return { ...entry, type: 'put' as const };
    });
    this.#commit(revision, changes, writer, displaced);
    return { revision, held };
  }

  /** Deletes `key`, with `ifLease` only while bound to one of them; `deleted` says whether it was. */
  deleteKey(
    key: string | Buffer,
    ifLease: readonly string[] | undefined,
    writer: string,
  ): { readonly deleted: boolean; readonly revision: bigint } {
    const id = idOf(Buffer.from(key));
    const stored = this.#keys.get(id);
    if (stored === undefined || (ifLease !== undefined && !ifLease.includes(stored.entry.lease))) {
      return { deleted: false, revision: this.#revision };
    }
    return { deleted: true, revision: this.#deleteAll([id], writer) };
  }

  /** Grants a lease of `ttlSeconds` (etcd's shortest at least) to `owner`. */
  grant(ttlSeconds: number, owner: string): string {
    const id = String(this.#nextLease++);
    const ttlMs = Math.max(ttlSeconds, MIN_TTL_SECONDS) * 1000;
    this.#leases.set(id, {
      id,
      ttlMs,
      owner,
      grantor: owner,
      expiresAt: this.clock.now() + ttlMs,
      keys: new Set(),
    });
    this.#expireAt(id, ttlMs);
    return id;
  }

  /** Renews lease `id`: its TTL in seconds, or 0 when etcd does not know it. */
  keepAlive(id: string): number {
    const lease = this.#leases.get(id);
    if (lease === undefined) {
      return 0;
    }
    lease.expiresAt = this.clock.now() + lease.ttlMs;
    this.#expireAt(id, lease.ttlMs);
    return lease.ttlMs / 1000;
  }

  /** Revokes lease `id`, deleting its keys at one revision; refused when etcd does not know it. */
  revoke(id: string, writer: string): void {
    const lease = this.#leases.get(id);
    if (lease === undefined) {
      throw new EtcdFailure('lease-not-found', 'etcdserver: requested lease not found');
    }
    this.#leases.delete(id);
    if (lease.keys.size > 0) {
      this.#deleteAll([...lease.keys], writer);
    }
  }

  /** The leases etcd holds now, with their owners. */
  leases(): readonly { readonly id: string; readonly owner: string }[] {
    return [...this.#leases.values()].map(({ id, owner }) => ({ id, owner }));
  }

  hasLease(id: string): boolean {
    return this.#leases.has(id);
  }

  /** A copy of everything etcd holds, as `etcdctl snapshot save` takes it. */
  backup(): SimBackup {
    return {
      revision: this.#revision,
      compacted: this.#compacted,
      keys: new Map(this.#keys),
      history: [...this.#history],
      leases: [...this.#leases.values()].map(({ id, ttlMs, owner, grantor, keys }) => ({
        id,
        ttlMs,
        owner,
        grantor,
        keys: [...keys],
      })),
    };
  }

  /**
   * etcd comes back as another cluster (a new id) holding `backup` (`etcdctl snapshot restore`: its
   * revision, which may be behind what clients saw, its history, and its leases with their TTLs
   * refreshed, as a new leader does), or nothing at all (a wiped data directory: revision 1). Every
   * watch ends with the old server; clients learn of it only from the cluster id and the revisions.
   *
   * What comes back was written by the backup, not by whoever wrote it then (writer `'restore'`), and a
   * lease comes back as its owner's only if that owner holds it still (it keeps renewing the same id);
   * else it is the backup's (owner `'restore'`), left to expire.
   */
  restore(backup: SimBackup | undefined): void {
    const held = new Map([...this.#leases.values()].map(({ id, owner }) => [id, owner]));
    this.#cluster = String(BigInt(this.clock.int(1, 2 ** 30)) * 2n ** 32n + 7n);
    this.#watches.clear();
    this.#keys.clear();
    this.#leases.clear();
    this.#history.length = 0;
    this.#revision = backup?.revision ?? 1n;
    this.#compacted = backup?.compacted ?? 0n;
    if (backup === undefined) {
      return;
    }
    for (const [id, { entry }] of backup.keys) {
      this.#keys.set(id, { entry, writer: 'restore' });
    }
    this.#history.push(...backup.history);
    for (const { id, ttlMs, owner: was, grantor, keys } of backup.leases) {
      const owner = held.get(id) === was ? was : 'restore';
      this.#leases.set(id, {
        id,
        ttlMs,
        owner,
        grantor,
        expiresAt: this.clock.now() + ttlMs,
        keys: new Set(keys),
      });
      this.#expireAt(id, ttlMs);
    }
  }

  /** Forgets the history before `revision` (etcd keeps that revision): a watch from before it is cancelled. */
  compact(revision: bigint): void {
    if (revision <= this.#compacted || revision > this.#revision) {
      return;
    }
    this.#compacted = revision;
    while (this.#history.length > 0 && (this.#history[0] as Commit).revision < revision) {
      this.#history.shift();
    }
  }

  /**
   * Starts a watch on `prefix` from `startRevision`: every new revision that touches the prefix goes to
   * `send`. Returns the revision etcd is at and the history the watch missed (the changes under the
   * prefix, in one response as etcd sends a catch-up, for the caller to send first), or `compacted`
   * when that history is gone (the
   * watch is then not started).
   */
  watch(
    prefix: Buffer,
    startRevision: bigint,
    send: (changes: readonly EtcdChange[]) => void,
  ):
    | { readonly revision: bigint; readonly missed: readonly (readonly EtcdChange[])[] }
    | { readonly compacted: bigint } {
    // etcd keeps the compaction revision itself: a watch from exactly there is delivered, not cancelled.
    if (startRevision > 0n && startRevision < this.#compacted) {
      return { compacted: this.#compacted };
    }
    // As etcd sends it: everything missed in one response, each transaction whole and in order.
    const caughtUp = this.#history
      .filter((commit) => commit.revision >= startRevision)
      .flatMap((commit) => commit.changes.filter((change) => startsWith(change.key, prefix)));
    const missed = caughtUp.length === 0 ? [] : [caughtUp];
    this.#watches.add({ prefix, send });
    return { revision: this.#revision, missed };
  }

  /** Stops the watches {@link SimEtcd.watch} started with `send`. */
  unwatch(send: (changes: readonly EtcdChange[]) => void): void {
    for (const watch of this.#watches) {
      if (watch.send === send) {
        this.#watches.delete(watch);
      }
    }
  }

  #deleteAll(ids: readonly string[], writer: string): bigint {
    const revision = this.#revision + 1n;
    const changes: EtcdChange[] = [];
    const displaced: (string | undefined)[] = [];
    for (const id of ids) {
      const stored = this.#keys.get(id);
      if (stored === undefined) {
        continue;
      }
      displaced.push(this.#holderOf(stored));
      this.#keys.delete(id);
      this.#unbind(id, stored);
      changes.push({
        type: 'delete',
        key: stored.entry.key,
        value: Buffer.alloc(0),
        modRevision: revision,
        version: 0,
        lease: '0',
      });
    }
    if (changes.length === 0) {
      return this.#revision;
    }
    this.#commit(revision, changes, writer, displaced);
    return revision;
  }

  /** Who granted the live lease `stored` is bound to (`undefined`: none, or no key). */
  #holderOf(stored: Stored | undefined): string | undefined {
    return stored === undefined ? undefined : this.#leases.get(stored.entry.lease)?.grantor;
  }

  #unbind(id: string, stored: Stored | undefined): void {
    if (stored !== undefined) {
      this.#leases.get(stored.entry.lease)?.keys.delete(id);
    }
  }

  #commit(
    revision: bigint,
    changes: readonly EtcdChange[],
    writer: string,
    displaced: readonly (string | undefined)[],
  ): void {
    this.#revision = revision;
    const commit: Commit = { revision, changes, writer, displaced };
    this.#history.push(commit);
    for (const watch of [...this.#watches]) {
      const mine = changes.filter((change) => startsWith(change.key, watch.prefix));
      if (mine.length > 0) {
        watch.send(mine);
      }
    }
    this.#listeners.forEach((listener) => listener(commit));
  }

  /**
   * A new leader: etcd refreshes every lease's TTL when a member becomes leader (its lessor's `Promote`),
   * so that no lease expires for the time there was none. A lease may live longer than its holder
   * expects.
   */
  electLeader(): void {
    this.#stopped = false;
    for (const lease of this.#leases.values()) {
      lease.expiresAt = this.clock.now() + lease.ttlMs;
      this.#expireAt(lease.id, lease.ttlMs);
    }
  }

  /** etcd stops (every member down): no lease expires until a leader is elected again. */
  stop(): void {
    this.#stopped = true;
  }

  /** Expires lease `id` once its deadline passed, at the lessor's next check (up to 500 ms late). */
  #expireAt(id: string, delayMs: number): void {
    this.clock.at(delayMs + this.clock.int(0, EXPIRY_CHECK_MS), () => {
      const lease = this.#leases.get(id);
      if (lease !== undefined && lease.expiresAt <= this.clock.now() && !this.#stopped) {
        this.revoke(id, 'expiry');
      }
    });
  }
}

function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.subarray(0, prefix.length).equals(prefix);
}
