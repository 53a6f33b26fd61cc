/**
 * A key as etcd holds it: bytes anyone may have written, the revision it was last written at, how many
 * times it was written since it was created (1: just created), and its lease (`'0'` for none).
 * @internal
 */
export interface EtcdEntry {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly modRevision: bigint;
  readonly version: number;
  readonly lease: string;
}

/** One event of a watch: a put (the entry as written) or a delete (value empty, lease `'0'`). @internal */
export interface EtcdChange extends EtcdEntry {
  readonly type: 'put' | 'delete';
}

/**
 * Where an answer comes from: etcd's revision then, and its cluster's id (decimal; `'0'` when the server
 * did not say, as etcd 3.4's grpc-proxy does for a watch it merged). The member id is left out: it
 * changes with every failover. A cluster id that changes means another store altogether (a cluster
 * created again, or restored with a new `--initial-cluster-token`), whatever its revision.
 * @internal
 */
export interface EtcdPosition {
  readonly revision: bigint;
  readonly cluster: string;
}

/** A prefix as etcd held it at `revision`, sorted by key bytes. @internal */
export interface RangeResult extends EtcdPosition {
  readonly entries: readonly EtcdEntry[];
}

/**
 * What changed under a prefix since a revision, as one linearizable request tells it: how many keys it
 * holds now, and which of them were written after that revision (deletes show only in the count).
 * @internal
 */
export interface PrefixDelta extends EtcdPosition {
  readonly count: number;
  readonly changed: number;
}

/** Why a watch ended: history compacted past where it would resume (read again), or it failed. @internal */
export type WatchEnd =
  | { readonly kind: 'compacted'; readonly compactRevision: bigint }
  | { readonly kind: 'failed'; readonly error: unknown };

/**
 * What a watch tells its owner, in the order etcd sent it. After `ended`, nothing more.
 * @internal
 */
export interface WatchListener {
  /** etcd accepted the watch; `position` is etcd's revision at that moment, and its cluster. */
  created(position: EtcdPosition): void;
  /** The events of one watch response, in revision order. */
  changes(changes: readonly EtcdChange[]): void;
  /** etcd says every event up to `revision` has been sent (a progress notification). */
  progress(revision: bigint): void;
  ended(reason: WatchEnd): void;
}

/** A watch under way. @internal */
export interface WatchHandle {
  /**
   * Asks etcd for a progress notification. Requests from the watches of one stream are coalesced; a
   * server that ignores them (etcd's 3.4 grpc-proxy) answers nothing.
   */
  requestProgress(): void;
  /** Stops the watch: its listener hears nothing more. */
  cancel(): void;
}

/** What a lease keepalive tells its owner. @internal */
export interface KeepAliveListener {
  /** etcd renewed the lease for `ttlSeconds` (0: it no longer knows the lease). */
  renewed(ttlSeconds: number): void;
  /** The keepalive stream failed; nothing more is heard from it. */
  failed(error: unknown): void;
}

/** A lease keepalive under way. @internal */
export interface KeepAlive {
  /** Asks etcd to renew the lease once more. */
  renew(): void;
  /** Stops it: its listener hears nothing more. */
  close(): void;
}

/** A put in a transaction: `key` = `value`, bound to `lease` (`'0'` for none). @internal */
export interface PutOp {
  readonly key: string;
  readonly value: string;
  readonly lease: string;
  /**
   * Written only while the key is bound to one of these leases (`'0'`: none; an absent key counts as
   * bound to none, as etcd compares it); else left as it is, and named in {@link PutAnswer.held}.
   */
  readonly ifLease?: readonly string[];
}

/** What etcd did with a transaction of puts. @internal */
export interface PutAnswer {
  /** The revision the puts were written at (etcd's revision then, when it wrote none). */
  readonly revision: bigint;
  /** The guarded puts etcd left unwritten, by key: the lease that held the key. */
  readonly held: ReadonlyMap<string, string>;
}

/**
 * etcd's key-value part, as gsr asks it: reads, the revision, counts, puts and guarded deletes. Both
 * adapters implement it: {@link Etcd3Port} over gRPC, and the JSON gateway a command line reads with.
 * Every request is linearizable unless it says otherwise.
 * @internal
 */
export interface EtcdKV {
  /** Everything under `prefix`. */
  range(prefix: string): Promise<RangeResult>;
  /**
   * etcd's current revision, with the cheapest linearizable request there is: a read of the single key
   * `key` (one the caller may read), keys only.
   */
  revision(key: string): Promise<EtcdPosition>;
  /** How many keys `prefix` holds, and how many were written after `revision`, in one request. */
  delta(prefix: string, revision: bigint): Promise<PrefixDelta>;
  /**
   * Proves etcd answers: at most one key under `prefix`, keys only; `serializable` lets any member answer
   * from its own store; `deadline` (epoch ms) replaces the request timeout.
   */
  probe(
    prefix: string,
    options: { readonly serializable: boolean; readonly deadline?: number },
  ): Promise<void>;
  /**
   * Every put in one transaction; with guarded ones, in flat transactions that compare each key's
   * lease, a round more for each key found on another lease it allows (never nested: etcd 3.4 checks no
   * permission inside a nested transaction).
   */
  putAll(puts: readonly PutOp[]): Promise<PutAnswer>;
  /**
   * Deletes `key`; with `ifLease`, only while it is bound to one of those leases (`'0'`: none), each
   * attempt one flat transaction that compares its lease, as `putAll` guards a put.
   */
  deleteKey(
    key: string,
    ifLease?: readonly string[],
  ): Promise<{ readonly deleted: boolean; readonly revision: bigint }>;
}

/** etcd's watch part. @internal */
export interface EtcdWatcher {
  /**
   * Whether a progress notification may be trusted to follow every event sent before it (etcd 3.4.25+,
   * 3.5.8+; before, etcd#15220 could send it ahead of events still queued).
   */
  readonly progressOrdered: boolean;
  /** Watches `prefix` from `startRevision` on. */
  watch(prefix: string, startRevision: bigint, listener: WatchListener): WatchHandle;
}

/** etcd's lease part. @internal */
export interface EtcdLeases {
  /** Grants a lease of `ttlSeconds`; resolves with its id (decimal). */
  grantLease(ttlSeconds: number): Promise<string>;
  /** Keeps `lease` alive: each `renew()` asks once. */
  keepAlive(lease: string, listener: KeepAliveListener): KeepAlive;
  /** Revokes `lease`, deleting every key bound to it; a lease etcd does not know counts as revoked. */
  revokeLease(lease: string): Promise<void>;
}

/**
 * Everything gsr asks of etcd, in three parts as etcd's Go client has them (`kv.go`, `watch.go`,
 * `lease.go`): the core (discovery, registration) talks to this and nothing else, so that it runs the
 * same against a real etcd ({@link Etcd3Port}, the only importer of etcd3) and against a simulated one
 * that a test drives one interleaving at a time.
 *
 * A failure rejects with an {@link EtcdFailure} (one of a few kinds, which `classifyEtcdError` turns
 * into what to do); the adapter reports each outcome to the registry's health and metrics itself.
 * @internal
 */
export interface EtcdPort extends EtcdKV, EtcdWatcher, EtcdLeases {
  /** Ends every request and stream still open: nothing of it keeps the process alive afterwards. */
  close(): void;
}
