import type { BulkheadPolicy } from 'cockatiel';
import type { EtcdContext } from '../etcd/EtcdContext';
import type { EtcdChange, EtcdEntry, EtcdPosition, WatchEnd, WatchHandle } from '../etcd/EtcdPort';
import { Retrier } from '../etcd/Retrier';
import { type KeyObserver, KeyObservers } from './KeyObservers';
import { ReadFences } from './ReadFences';

/** Where a {@link PrefixWatch} delivers etcd's state: the list that shares it. @internal */
export interface PrefixSink {
  /** Whether the list ended (a subscriber's `next` may end it): the watch then stops. */
  ended(): boolean;
  /** Whether the list has emitted a first value (fenced reads answer only after). */
  started(): boolean;
  /** etcd's state, read in full; `replaced` when etcd's store is not the one the list followed. */
  reset(entries: readonly EtcdEntry[], replaced: boolean): void;
  /** What one batch of watch responses changed. */
  changed(changes: readonly EtcdChange[]): void;
  /** Whether the state left something out that only a read in full brings (`PrefixState.needsRead`). */
  needsRead(): boolean;
  /** What retrying cannot fix: the list errors with it. */
  failed(error: Error): void;
}

/** Why a prefix was read again in full, as metrics record it. */
const CANCELLED = Object.freeze({ 'gsr.reason': 'cancelled' });
const WENT_BACK = Object.freeze({ 'gsr.reason': 'revision_went_back' });
const REPLACED = Object.freeze({ 'gsr.reason': 'store_replaced' });
const OTHER_CLUSTER = Object.freeze({ 'gsr.reason': 'cluster_changed' });

/**
 * The etcd side of a live list: one range get, then a watch from that get's revision + 1, so that
 * nothing between the two is lost or doubled. Watch responses that arrive together are applied
 * together, from a microtask; each batch is a state etcd was in. It survives what etcd does: a broken
 * watch is retried on gsr's backoff and resumed after the last revision received (tracked here, from
 * the events themselves), and the resumed list checked against etcd's count; a watch etcd cancelled (a
 * compacted revision), a store whose revision went back or another cluster is read again. Only what
 * retrying cannot fix fails the list.
 *
 * {@link PrefixWatch.read} answers one-off reads behind a fence ({@link ReadFences}).
 * @internal
 */
export class PrefixWatch {
  readonly #context: EtcdContext;
  readonly #ranges: BulkheadPolicy;
  readonly #prefix: string;
  readonly #sink: PrefixSink;
  /** The revision the state is etcd's state at; `undefined` until read, or when it must be read again. */
  #applied: bigint | undefined;
  /** The last revision received: ahead of `#applied` while changes wait for their microtask. */
  #received: bigint | undefined;
  /** How many keys the prefix holds at `#applied`, valid or not: what a delta fence compares. */
  #count = 0;
  /** The id of the etcd cluster the state was read from (`'0'`: not said). */
  #cluster = '0';
  /** A re-read is due because etcd's store was replaced (see {@link KeyObserver}). */
  #replaced = false;
  /**
   * A resumed watch's list, not yet checked against etcd: a store wiped or restored from a backup whose
   * revision passed ours meanwhile takes the resumption silently, with our deleted keys kept for good.
   */
  #unverified = false;
  #verifying = false;
  #watch: WatchHandle | undefined;
  /** Whether etcd has accepted the current watch (progress requests reach it). */
  #watching = false;
  #retrier: Retrier | undefined;
  /** Changes received in this macrotask, applied together from a microtask. */
  #pending: EtcdChange[] | undefined;
  readonly #fences: ReadFences;
  readonly #observers = new KeyObservers();
  #stopped = false;

  constructor(context: EtcdContext, ranges: BulkheadPolicy, prefix: string, sink: PrefixSink) {
    this.#context = context;
    this.#ranges = ranges;
    this.#prefix = prefix;
    this.#sink = sink;
    this.#fences = new ReadFences(context.clock);
  }

  /** The revision the list is etcd's state at, once read. */
  get applied(): bigint | undefined {
    return this.#applied;
  }

  /** How many keys the prefix holds at {@link PrefixWatch.applied}. */
  get count(): number {
    return this.#count;
  }

  /** Reads the prefix, then watches it. */
  start(): void {
    void this.#run();
  }

  /** Stops watching for good: observers and waiting reads are let go. */
  stop(): void {
    this.#stopped = true;
    this.#retrier?.cancel();
    this.#dropWatch();
    this.#observers.clear();
    this.#fences.cancelAll();
  }

  /** See {@link KeyObservers.observe}. */
  observe(key: string, observer: KeyObserver): () => void {
    return this.#observers.observe(key, observer);
  }

  /**
   * Resolves once the list is known to hold every write etcd confirmed before this call, with `true`;
   * `false` when that cannot be shown cheaply (then the caller reads etcd). Two fences, by what etcd can
   * promise:
   *
   * - where progress notifications are ordered (etcd 3.4.25+, 3.5.8+), etcd's current revision (one read
   *   of a single key), then the list once its watch reaches it: at once when it already has, else after
   *   a progress notification;
   * - elsewhere, one transaction that counts the prefix's keys and those written after the list's
   *   revision: none written and as many keys means etcd's state now is the list's.
   *
   * @throws the port's failure, for the caller to classify.
   */
  async fence(): Promise<boolean> {
    const { etcd } = this.#context;
    const applied = this.#applied;
    if (this.#stopped || !this.#sink.started() || applied === undefined) {
      return false;
    }
    if (etcd.progressOrdered && this.#watching && this.#fences.progressAnswered) {
      const { revision, cluster } = await etcd.revision(this.#prefix);
      if (this.#otherCluster(cluster)) {
        return false; // The list is of another store: only a read of this one answers.
      }
      return this.#reached(revision);
    }
    const count = this.#count;
    const delta = await etcd.delta(this.#prefix, applied);
    return (
      !this.#otherCluster(delta.cluster) &&
      delta.changed === 0 &&
      delta.count === count &&
      this.#applied === applied &&
      !this.#stopped
    );
  }

  /** Whether `cluster` is known to differ from the one the list was read from. */
  #otherCluster(cluster: string): boolean {
    return cluster !== '0' && this.#cluster !== '0' && cluster !== this.#cluster;
  }

  /** Resolves whether the list reached `revision` (at once, or within the fence's wait). */
  #reached(revision: bigint): Promise<boolean> {
    if (this.#stopped) {
      return Promise.resolve(false);
    }
    if (this.#applied !== undefined && this.#applied >= revision && this.#pending === undefined) {
      return Promise.resolve(true);
    }
    return this.#fences.wait(revision, () => this.#watch?.requestProgress());
  }

  #settleFences(): void {
    if (this.#applied !== undefined) {
      this.#fences.reached(this.#applied, () => this.#watch?.requestProgress());
    }
  }

  async #run(): Promise<void> {
    const { etcd, metrics } = this.#context;
    try {
      if (this.#received === undefined) {
        // A list that ended while its read waited for a turn reads nothing.
        const range = await this.#ranges.execute(() =>
          this.#stopped ? undefined : etcd.range(this.#prefix),
        );
        if (this.#stopped || range === undefined) {
          return;
        }
        this.#retrier?.succeeded();
        this.#pending = undefined; // Superseded by the range.
        this.#applied = range.revision;
        this.#received = range.revision;
        this.#count = range.entries.length;
        // What the list held came from this store, not from another cluster: a key it no longer finds
        // has left.
        const replaced = this.#replaced || this.#otherCluster(range.cluster);
        this.#replaced = false;
        this.#cluster = range.cluster;
        this.#sink.reset(range.entries, replaced);
        this.#observers.read(range.entries, range.revision, replaced);
        this.#settleFences();
        if (this.#sink.ended()) {
          return;
        }
      } else {
        metrics.watchResumes.add(1); // The first run reads: this one resumes a broken watch.
        this.#unverified = true;
      }
      this.#watch = etcd.watch(this.#prefix, this.#received + 1n, {
        created: (position) => this.#created(position),
        changes: (changes) => this.#changes(changes),
        progress: (revision) => this.#progress(revision),
        ended: (reason) => this.#watchEnded(reason),
      });
    } catch (error) {
      if (!this.#stopped) {
        this.#retry(error);
      }
    }
  }

  #created({ revision, cluster }: EtcdPosition): void {
    const { logger, metrics } = this.#context;
    if (this.#otherCluster(cluster)) {
      // Another store altogether (a cluster created again, a restore with a new token) at the same
      // address: whatever its revision, the history the watch resumes is not the one the list followed.
      logger.warn(
        `etcd at the same address is another cluster (id ${cluster}, was ${this.#cluster}); reading ${this.#prefix} again`,
      );
      metrics.watchRereads.add(1, OTHER_CLUSTER);
      this.#reread(true);
      return;
    }
    if (this.#received !== undefined && revision < this.#received) {
      // etcd is behind what this list already saw: its data was replaced or restored from a backup. A
      // watch from our revision would wait silently for a "future"; only a fresh read is correct.
      logger.info(
        `etcd's revision went back under the watch on ${this.#prefix}; reading it again`,
        {
          revision: this.#received,
          etcdRevision: revision,
        },
      );
      metrics.watchRereads.add(1, WENT_BACK);
      this.#reread(true);
      return;
    }
    this.#watching = true;
    this.#retrier?.succeeded();
    this.#verify();
  }

  /**
   * Checks a resumed list against etcd with one count (the delta fence's transaction): when nothing was
   * written after the list's revision and etcd holds another number of keys, etcd's store is not the one
   * the list followed (wiped, restored): read again. While writes are still arriving, the next batch
   * checks again.
   */
  #verify(): void {
    const applied = this.#applied;
    if (!this.#unverified || this.#verifying || this.#stopped || applied === undefined) {
      return;
    }
    const count = this.#count;
    this.#verifying = true;
    const { etcd, logger, metrics } = this.#context;
    // A count over the whole prefix: in turn with the lists' reads, however many resume at once.
    this.#ranges
      .execute(() => etcd.delta(this.#prefix, applied))
      .then(
        (delta) => {
          this.#verifying = false;
          if (this.#stopped) {
            return;
          }
          if (this.#applied !== applied) {
            this.#verify(); // A batch came meanwhile: checked on what the list holds now.
            return;
          }
          if (this.#otherCluster(delta.cluster)) {
            this.#unverified = false;
            metrics.watchRereads.add(1, OTHER_CLUSTER);
            this.#reread(true);
            return;
          }
          if (delta.changed > 0) {
            return; // The watch is about to deliver them: the next batch checks again.
          }
          this.#unverified = false;
          if (delta.count !== count) {
            logger.warn(
              `etcd holds ${delta.count} keys under ${this.#prefix} where the resumed list has ${count} and ` +
                'nothing changed since: its data was replaced or restored from a backup; reading it again',
            );
            metrics.watchRereads.add(1, REPLACED);
            this.#reread(true);
          }
        },
        () => {
          // Unanswered: the next batch, or the next resumption, checks again.
          this.#verifying = false;
        },
      );
  }

  #changes(changes: readonly EtcdChange[]): void {
    // The events of one transaction share its revision, and come in one response.
    const before = this.#received;
    for (const change of changes) {
      if (before !== undefined && change.modRevision <= before) {
        continue; // Already applied, should etcd ever replay it.
      }
      if (this.#pending === undefined) {
        this.#pending = [change];
        // Responses that arrive together (one socket read decodes many under load) become one update:
        // one value per batch instead of one per response, and still only whole responses.
        queueMicrotask(() => this.#flush());
      } else {
        this.#pending.push(change);
      }
      this.#received = change.modRevision;
    }
  }

  #progress(revision: bigint): void {
    this.#fences.progressed();
    // Where progress is ordered, etcd sends one only once everything up to its revision was sent: the
    // list is etcd's state there, and resuming from there is safe. Elsewhere it says nothing for sure.
    const ordered = this.#context.etcd.progressOrdered;
    if (ordered && this.#received !== undefined && revision > this.#received) {
      this.#received = revision;
      if (this.#pending === undefined) {
        this.#applied = revision;
      }
    }
    this.#settleFences();
  }

  #flush(): void {
    const changes = this.#pending;
    this.#pending = undefined;
    if (changes === undefined || this.#stopped || this.#received === undefined) {
      return;
    }
    for (const change of changes) {
      this.#count += change.type === 'delete' ? -1 : change.version === 1 ? 1 : 0;
    }
    this.#applied = this.#received;
    this.#sink.changed(changes);
    this.#observers.changed(changes);
    this.#settleFences();
    this.#verify();
    if (this.#sink.needsRead() && !this.#sink.ended()) {
      this.#context.logger.debug(`reading ${this.#prefix} again for what it left out`);
      this.#reread();
    }
  }

  #watchEnded(reason: WatchEnd): void {
    this.#watch = undefined;
    this.#watching = false;
    if (reason.kind === 'compacted') {
      // The history after our revision is gone: only a fresh read is correct.
      this.#context.logger.debug(
        `etcd cancelled the watch on ${this.#prefix} (history compacted past revision ${this.#received}); reading it again`,
        { compactRevision: reason.compactRevision },
      );
      this.#context.metrics.watchRereads.add(1, CANCELLED);
      this.#reread();
      return;
    }
    this.#retry(reason.error);
  }

  /** Reads the whole prefix again; `replaced` when etcd's store is not the one the list followed. */
  #reread(replaced = false): void {
    this.#replaced ||= replaced;
    this.#unverified = false;
    this.#dropWatch();
    this.#received = undefined;
    this.#applied = undefined;
    void this.#run();
  }

  #retry(error: unknown): void {
    this.#dropWatch();
    this.#retrier ??= new Retrier(this.#context, {
      key: this.#prefix,
      description: `watch ${this.#prefix}`,
    });
    const stop = this.#retrier.failed(error, () => void this.#run());
    if (stop !== undefined) {
      // A watch holds no lease: anything but a retry is a refusal or the registry closing.
      this.#sink.failed('error' in stop ? stop.error : new Error(`watch ${this.#prefix} failed`));
    }
  }

  #dropWatch(): void {
    const watch = this.#watch;
    this.#watch = undefined;
    this.#watching = false;
    watch?.cancel();
  }
}
