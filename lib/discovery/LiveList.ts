import type { BulkheadPolicy } from 'cockatiel';
import type { Subscriber, TeardownLogic } from 'rxjs';
import type { Cancel } from '../etcd/Clock';
import type { EtcdContext } from '../etcd/EtcdContext';
import type { EtcdChange, EtcdEntry, EtcdPosition, WatchEnd, WatchHandle } from '../etcd/EtcdPort';
import { Retrier } from '../etcd/Retrier';
import type { SnapshotStore } from '../snapshot/SnapshotStore';
import type { Freshness } from './Freshness';
import { applyUpdate } from './applyUpdate';
import type { PrefixState, PrefixUpdate } from './PrefixUpdate';

/** What a {@link LiveList} needs from the registry part that keeps it. @internal */
export interface LiveListOwner {
  readonly context: EtcdContext;
  /** How long a list nobody subscribes to keeps its watch. */
  readonly gracePeriodMs: number;
  /** Where every whole-prefix read waits its turn: a bounded number run at once. */
  readonly ranges: BulkheadPolicy;
  /** The list has ended (its last subscriber left, it failed, or the registry closed): forget it. */
  released(list: LiveList<unknown>): void;
  /** Where lists are kept on disk, for a process that starts while etcd is down; none: not kept. */
  readonly snapshots?: SnapshotStore | undefined;
  /** Since when etcd has not answered, while it does not (since the registry began, before any answer). */
  lostSince?(): Date | undefined;
}

/**
 * Told what etcd holds at one key each time the list learns it: the entry (or `undefined`: no such key)
 * and the revision that says so; `replaced` when etcd's store was replaced since the list last learnt
 * it (wiped, restored from a backup, another cluster), so that revisions from before say nothing of it.
 * @internal
 */
export type KeyObserver = (
  entry: EtcdEntry | undefined,
  revision: bigint,
  replaced?: boolean,
) => void;

/**
 * A state that can say what changed since it last said so, for subscribers of changes. @internal
 */
export interface ChangeTracker {
  /** Starts (or stops) remembering what changes. */
  trackChanges(on: boolean): void;
  /** What changed since the last call (or since tracking started), at `revision`. */
  takeChanges(revision: bigint | undefined): unknown;
  /** The whole value as changes: everything added. */
  everything(value: never, revision: bigint | undefined): unknown;
}

/** A read waiting for the list to reach a revision. */
interface Fence {
  readonly revision: bigint;
  readonly settle: (reached: boolean) => void;
}

/** Why a prefix was read again in full, as metrics record it. */
const CANCELLED = Object.freeze({ 'gsr.reason': 'cancelled' });
const WENT_BACK = Object.freeze({ 'gsr.reason': 'revision_went_back' });
const REPLACED = Object.freeze({ 'gsr.reason': 'store_replaced' });
const OTHER_CLUSTER = Object.freeze({ 'gsr.reason': 'cluster_changed' });

/** How long a fenced read waits for the watch to reach etcd's revision before it reads etcd instead. */
const FENCE_WAIT_MS = 500;
/**
 * How long a new list waits for etcd before it shows its snapshot: a process whose etcd answers shows
 * only live lists, and one whose etcd is down calls what it knew within a second of starting.
 */
const SNAPSHOT_WAIT_MS = 500;
const LIVE: Freshness = Object.freeze({ kind: 'live' });
/** After a progress request went unanswered (a proxy that ignores them), how long reads do without. */
const PROGRESS_RETRY_MS = 60_000;

/**
 * One watched prefix, shared by every subscriber: its subscribers, the state folded from etcd, the value
 * last emitted, the etcd watch and the grace timer, in one object, the way RxJS builds `share` (instead
 * of a chain of operators and a cache beside it per service: thousands of watched services cost
 * kilobytes each less).
 *
 * It reads the prefix with one range get, then watches it from that get's revision + 1, so that nothing
 * between the two is lost or doubled. Watch responses that arrive together are applied together and
 * emitted once, from a microtask; each emission is a state etcd was in. It survives what etcd does to it:
 * a broken watch is retried on gsr's backoff and resumed after the last revision received (tracked here,
 * from the events themselves); a watch etcd cancelled (a compacted revision) or a store whose revision
 * went back (data replaced) is read again. Only what retrying cannot fix errors it.
 *
 * {@link LiveList.read} answers one-off reads from the list behind a fence, so that they see every write
 * etcd confirmed before they were asked: Kubernetes' consistent reads from cache (KEP-2340).
 *
 * Its life: it starts with its first subscriber; when the last leaves, it keeps its watch for the grace
 * period, then ends; it also ends when it fails or the registry closes. An ended list holds nothing and
 * is forgotten by its owner: a later subscriber starts a new one.
 * @internal
 */
export class LiveList<T> {
  readonly prefix: string;
  readonly #owner: LiveListOwner;
  readonly #state: PrefixState<T>;
  #subscribers: Subscriber<T>[] = [];
  /**
   * Subscribers of what changed (a state that tracks changes): they never need the whole value, so a
   * list only they follow is never copied.
   */
  #changeSubscribers: Subscriber<unknown>[] = [];
  #value: T | undefined;
  /** Whether `#value` is behind the state (no list subscriber wanted it): made when asked for. */
  #stale = false;
  /** Whether the first value was emitted. */
  #started = false;
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
  #cancelGrace: Cancel | undefined;
  /** The timer that lets the state drop what it keeps for a while (see `PrefixState.expire`). */
  #cancelExpiry: Cancel | undefined;
  #expiryAt: number | undefined;
  /** Changes received in this macrotask, applied together from a microtask. */
  #pending: EtcdChange[] | undefined;
  readonly #fences: Fence[] = [];
  /** When a progress request last went unanswered, if it did. */
  #progressMissedAt: number | undefined;
  /** Keys (as their bytes, in latin1) someone observes. */
  readonly #observers = new Map<string, KeyObserver>();
  #ended = false;
  /** While the list shows a snapshot (etcd has not answered it yet): when the snapshot was written. */
  #snapshotSince: Date | undefined;
  /** Whether a snapshot of this list was on disk: an empty list is written only over one. */
  #onDisk = false;
  /** The wait before the snapshot is shown, while it runs. */
  #cancelSnapshotWait: Cancel | undefined;

  constructor(owner: LiveListOwner, prefix: string, state: PrefixState<T>) {
    this.#owner = owner;
    this.prefix = prefix;
    this.#state = state;
    owner.context.metrics.watchStarts.add(1);
    void this.#run();
    if (owner.snapshots !== undefined && state.entries !== undefined) {
      void this.#fromSnapshot(owner.snapshots);
    }
  }

  /** Whether the list is etcd's state now, or one from before (a snapshot, an outage), and since when. */
  freshness(): Freshness {
    if (this.#snapshotSince !== undefined) {
      return { kind: 'snapshot', since: this.#snapshotSince };
    }
    const lost = this.#owner.lostSince?.();
    return lost === undefined ? LIVE : { kind: 'kept', since: lost };
  }

  /**
   * Shows the list's snapshot at once when etcd is lost, else when etcd has not answered within
   * {@link SNAPSHOT_WAIT_MS}: marked as such (see {@link LiveList.freshness}), never mixed with etcd's
   * entries, replaced by etcd's first answer.
   */
  async #fromSnapshot(snapshots: SnapshotStore): Promise<void> {
    const { clock, logger } = this.#owner.context;
    const started = clock.now();
    const snapshot = await snapshots.load(this.prefix);
    this.#onDisk = snapshot !== undefined;
    if (snapshot === undefined || this.#ended) {
      return;
    }
    if (this.#started) {
      this.#save(); // etcd answered first: what is on disk may be older (or emptier) than the list.
      return;
    }
    // Where etcd is known lost (connect() started without it, or an outage), it is shown at once.
    const lost = this.#owner.lostSince?.() !== undefined;
    const wait = lost ? 0 : SNAPSHOT_WAIT_MS - (clock.now() - started);
    if (wait > 0) {
      // An end of the list meanwhile cancels the wait, and the promise is left to be collected.
      await new Promise<void>((resolve) => {
        this.#cancelSnapshotWait = clock.schedule(wait, resolve, { keepsAlive: false });
      });
      this.#cancelSnapshotWait = undefined;
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- etcd may have answered meanwhile
    if (this.#started || this.#ended) {
      return;
    }
    this.#snapshotSince = new Date(snapshot.savedAt);
    logger.info(
      `etcd has not answered for ${this.prefix} yet: showing its snapshot of ${this.#snapshotSince.toISOString()} (${snapshot.entries.length} entries) until it does`,
    );
    this.#emit({ kind: 'reset', entries: snapshot.entries, afterLive: false });
  }

  /** Keeps the list on disk (within a second), as it will be when written. */
  #save(): void {
    const { snapshots } = this.#owner;
    const state = this.#state;
    if (
      snapshots === undefined ||
      state.entries === undefined ||
      state.needsRead === true ||
      this.#applied === undefined ||
      (this.#count === 0 && !this.#onDisk && state.snapshotWhenEmpty !== true)
    ) {
      return;
    }
    const revision = (): bigint => this.#applied ?? 0n;
    snapshots.save(this.prefix, {
      entries: () => state.entries?.() ?? [],
      get revision() {
        return revision();
      },
    });
  }

  /** The state the list folds etcd's updates into. */
  get state(): PrefixState<T> {
    return this.#state;
  }

  /** The current value, if the list has one. */
  get value(): T | undefined {
    return this.#current();
  }

  #current(): T | undefined {
    if (this.#stale) {
      this.#stale = false;
      this.#value = this.#state.snapshot(this.#applied);
    }
    return this.#value;
  }

  /** Adds a subscriber: it gets the current value at once, if there is one. */
  add(subscriber: Subscriber<T>): TeardownLogic {
    this.#cancelGrace?.();
    this.#cancelGrace = undefined;
    this.#subscribers.push(subscriber);
    const value = this.#current();
    if (value !== undefined) {
      subscriber.next(value);
    }
    return () => this.#remove(subscriber);
  }

  /**
   * Adds a subscriber of what changed: first everything the list holds as added (once it has a value),
   * then each change as the state tracks it, without the list's value being made for it.
   */
  addChanges(subscriber: Subscriber<unknown>, tracker: ChangeTracker): TeardownLogic {
    this.#cancelGrace?.();
    this.#cancelGrace = undefined;
    tracker.trackChanges(true);
    this.#changeSubscribers.push(subscriber);
    if (this.#started) {
      subscriber.next(tracker.everything(this.#current() as never, this.#applied));
    }
    return () => {
      const index = this.#changeSubscribers.indexOf(subscriber);
      if (index >= 0) {
        this.#changeSubscribers.splice(index, 1);
      }
      if (this.#changeSubscribers.length === 0) {
        tracker.trackChanges(false);
      }
      this.#released();
    };
  }

  /**
   * Tells `observer` what etcd holds at `key` each time the list learns it (a read, a change of that
   * key), until the returned function is called. Keys are compared byte for byte.
   */
  observe(key: string, observer: KeyObserver): () => void {
    const bytes = Buffer.from(key).toString('latin1');
    this.#observers.set(bytes, observer);
    return () => {
      if (this.#observers.get(bytes) === observer) {
        this.#observers.delete(bytes);
      }
    };
  }

  /**
   * The list's value, once it is known to hold every write etcd confirmed before this call; `undefined`
   * when that cannot be shown cheaply (then the caller reads etcd). Two fences, by what etcd can promise:
   *
   * - where progress notifications are ordered (etcd 3.4.25+, 3.5.8+), etcd's current revision (one read
   *   of a single key), then the list once its watch reaches it: at once when it already has, else after
   *   a progress notification;
   * - elsewhere, one transaction that counts the prefix's keys and those written after the list's
   *   revision: none written and as many keys means etcd's state now is the list's.
   *
   * @throws the port's failure, for the caller to classify.
   */
  async read(): Promise<T | undefined> {
    const { etcd, clock } = this.#owner.context;
    const applied = this.#applied;
    if (this.#ended || !this.#started || applied === undefined) {
      return undefined;
    }
    const progressUsable =
      etcd.progressOrdered &&
      this.#watching &&
      (this.#progressMissedAt === undefined ||
        clock.now() - this.#progressMissedAt >= PROGRESS_RETRY_MS);
    if (progressUsable) {
      const { revision, cluster } = await etcd.revision(this.prefix);
      if (this.#otherCluster(cluster)) {
        return undefined; // The list is of another store: only a read of this one answers.
      }
      return (await this.#reached(revision)) ? this.#current() : undefined;
    }
    const count = this.#count;
    const delta = await etcd.delta(this.prefix, applied);
    const unchanged =
      !this.#otherCluster(delta.cluster) &&
      delta.changed === 0 &&
      delta.count === count &&
      this.#applied === applied &&
      !this.#ended;
    return unchanged ? this.#current() : undefined;
  }

  /** Whether `cluster` is known to differ from the one the list was read from. */
  #otherCluster(cluster: string): boolean {
    return cluster !== '0' && this.#cluster !== '0' && cluster !== this.#cluster;
  }

  /** Completes every subscriber and ends: the registry is closing. */
  complete(): void {
    const subscribers = this.#end();
    subscribers.forEach((subscriber) => subscriber.complete());
  }

  /** Resolves whether the list reached `revision` within {@link FENCE_WAIT_MS}. */
  #reached(revision: bigint): Promise<boolean> {
    if (this.#ended) {
      return Promise.resolve(false);
    }
    if (this.#applied !== undefined && this.#applied >= revision && this.#pending === undefined) {
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const cancel = this.#owner.context.clock.schedule(FENCE_WAIT_MS, () => {
        const index = this.#fences.indexOf(fence);
        if (index >= 0) {
          this.#fences.splice(index, 1);
          this.#progressMissedAt = this.#owner.context.clock.now();
          resolve(false);
        }
      });
      const fence: Fence = {
        revision,
        settle: (reached) => {
          cancel();
          resolve(reached);
        },
      };
      this.#fences.push(fence);
      this.#watch?.requestProgress();
    });
  }

  /** Settles the fences the list has reached; asks for progress again while some have not. */
  #settleFences(): void {
    const applied = this.#applied;
    if (applied === undefined || this.#fences.length === 0) {
      return;
    }
    for (let i = this.#fences.length - 1; i >= 0; i--) {
      const fence = this.#fences[i] as Fence;
      if (applied >= fence.revision) {
        this.#fences.splice(i, 1);
        fence.settle(true);
      }
    }
    if (this.#fences.length > 0) {
      this.#watch?.requestProgress(); // A member that lags behind the one that gave the revision.
    }
  }

  #remove(subscriber: Subscriber<T>): void {
    const index = this.#subscribers.indexOf(subscriber);
    if (index >= 0) {
      this.#subscribers.splice(index, 1);
    }
    this.#released();
  }

  /** A subscriber left: with none left, the grace period starts. */
  #released(): void {
    if (
      this.#subscribers.length > 0 ||
      this.#changeSubscribers.length > 0 ||
      this.#ended ||
      this.#cancelGrace !== undefined
    ) {
      return;
    }
    const { gracePeriodMs, context } = this.#owner;
    if (gracePeriodMs === 0) {
      this.#end();
    } else {
      // A watch kept warm must not be what keeps a process alive.
      this.#cancelGrace = context.clock.schedule(gracePeriodMs, () => this.#end(), {
        keepsAlive: false,
      });
    }
  }

  #fail(error: Error): void {
    const subscribers = this.#end();
    subscribers.forEach((subscriber) => subscriber.error(error));
  }

  /** Has the state told when what it keeps for a while goes, if it keeps anything. */
  #scheduleExpiry(): void {
    const at = this.#ended ? undefined : this.#state.nextExpiry?.();
    if (at === this.#expiryAt) {
      return;
    }
    this.#cancelExpiry?.();
    this.#cancelExpiry = undefined;
    this.#expiryAt = at;
    if (at !== undefined) {
      const { clock } = this.#owner.context;
      // Like the grace period: what a list keeps for a while must not keep a process alive.
      this.#cancelExpiry = clock.schedule(
        Math.max(0, at - clock.now()),
        () => {
          this.#cancelExpiry = undefined;
          this.#expiryAt = undefined;
          if (this.#started) {
            this.#emit({ kind: 'time' });
          }
        },
        { keepsAlive: false },
      );
    }
  }

  /** Every subscriber, of values and of changes. */
  #everyone(): Subscriber<unknown>[] {
    return [...this.#subscribers, ...this.#changeSubscribers];
  }

  /** Releases everything this list holds and tells its owner; returns the subscribers it had. */
  #end(): Subscriber<T>[] {
    const subscribers = this.#everyone();
    if (this.#ended) {
      return [];
    }
    this.#ended = true;
    this.#subscribers = [];
    this.#changeSubscribers = [];
    this.#cancelGrace?.();
    this.#cancelSnapshotWait?.();
    this.#cancelExpiry?.();
    this.#retrier?.cancel();
    this.#dropWatch();
    this.#observers.clear();
    this.#fences.splice(0).forEach((fence) => fence.settle(false));
    this.#owner.released(this);
    return subscribers;
  }

  #emit(update: PrefixUpdate): void {
    const first = !this.#started;
    const changed = applyUpdate(this.#state, update, first);
    this.#scheduleExpiry();
    if (!changed) {
      return;
    }
    this.#started = true;
    const changeSubscribers = this.#changeSubscribers.slice();
    const tracker =
      changeSubscribers.length > 0 ? (this.#state as unknown as ChangeTracker) : undefined;
    // Taken before any subscriber runs: a `next` may subscribe anew and must not see them twice.
    const changes = tracker?.takeChanges(this.#applied);
    if (this.#subscribers.length > 0) {
      const value = this.#state.snapshot(this.#applied);
      this.#value = value;
      this.#stale = false;
      // A subscriber may leave (or end the list) from its own `next`.
      for (const subscriber of this.#subscribers.slice()) {
        subscriber.next(value);
      }
    } else {
      this.#stale = true;
    }
    for (const subscriber of changeSubscribers) {
      subscriber.next(
        first ? tracker?.everything(this.#current() as never, this.#applied) : changes,
      );
    }
  }

  async #run(): Promise<void> {
    const { etcd, metrics } = this.#owner.context;
    try {
      if (this.#received === undefined) {
        // A list that ended while its read waited for a turn reads nothing.
        const range = await this.#owner.ranges.execute(() =>
          this.#ended ? undefined : etcd.range(this.prefix),
        );
        if (this.#ended || range === undefined) {
          return;
        }
        this.#retrier?.succeeded();
        this.#pending = undefined; // Superseded by the range.
        this.#applied = range.revision;
        this.#received = range.revision;
        this.#count = range.entries.length;
        // What the list held came from this store, not from a snapshot or another cluster: a key it
        // no longer finds has left.
        const replaced = this.#replaced || this.#otherCluster(range.cluster);
        this.#replaced = false;
        const afterLive = this.#snapshotSince === undefined && !replaced;
        this.#cluster = range.cluster;
        this.#snapshotSince = undefined;
        this.#emit({ kind: 'reset', entries: range.entries, afterLive });
        this.#save();
        this.#tellObservers(range.entries, range.revision, replaced);
        this.#settleFences();
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a subscriber's `next` may end the list
        if (this.#ended) {
          return;
        }
      } else {
        metrics.watchResumes.add(1); // The first run reads: this one resumes a broken watch.
        this.#unverified = true;
      }
      this.#watch = etcd.watch(this.prefix, this.#received + 1n, {
        created: (position) => this.#created(position),
        changes: (changes) => this.#changes(changes),
        progress: (revision) => this.#progress(revision),
        ended: (reason) => this.#watchEnded(reason),
      });
    } catch (error) {
      if (!this.#ended) {
        this.#retry(error);
      }
    }
  }

  #created({ revision, cluster }: EtcdPosition): void {
    if (this.#otherCluster(cluster)) {
      // Another store altogether (a cluster created again, a restore with a new token) at the same
      // address: whatever its revision, the history the watch resumes is not the one the list followed.
      this.#owner.context.logger.warn(
        `etcd at the same address is another cluster (id ${cluster}, was ${this.#cluster}); reading ${this.prefix} again`,
      );
      this.#owner.context.metrics.watchRereads.add(1, OTHER_CLUSTER);
      this.#reread(true);
      return;
    }
    if (this.#received !== undefined && revision < this.#received) {
      // etcd is behind what this list already saw: its data was replaced or restored from a backup. A
      // watch from our revision would wait silently for a "future"; only a fresh read is correct.
      this.#owner.context.logger.info(
        `etcd's revision went back under the watch on ${this.prefix}; reading it again`,
        { revision: this.#received, etcdRevision: revision },
      );
      this.#owner.context.metrics.watchRereads.add(1, WENT_BACK);
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
    if (!this.#unverified || this.#verifying || this.#ended) {
      return;
    }
    const applied = this.#applied;
    if (applied === undefined) {
      return;
    }
    const count = this.#count;
    this.#verifying = true;
    const { etcd, logger, metrics } = this.#owner.context;
    // A count over the whole prefix: in turn with the lists' reads, however many resume at once.
    this.#owner.ranges
      .execute(() => etcd.delta(this.prefix, applied))
      .then(
        (delta) => {
          this.#verifying = false;
          if (this.#ended) {
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
              `etcd holds ${delta.count} keys under ${this.prefix} where the resumed list has ${count} and ` +
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
    this.#progressMissedAt = undefined;
    // Where progress is ordered, etcd sends one only once everything up to its revision was sent: the
    // list is etcd's state there, and resuming from there is safe. Elsewhere it says nothing for sure.
    const ordered = this.#owner.context.etcd.progressOrdered;
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
    if (changes === undefined || this.#ended || this.#received === undefined) {
      return;
    }
    for (const change of changes) {
      this.#count += change.type === 'delete' ? -1 : change.version === 1 ? 1 : 0;
    }
    this.#applied = this.#received;
    this.#emit({ kind: 'changes', changes });
    this.#save();
    this.#tellChanges(changes);
    this.#settleFences();
    this.#verify();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a subscriber's `next` may end the list
    if (this.#state.needsRead === true && !this.#ended) {
      this.#owner.context.logger.debug(`reading ${this.prefix} again for what it left out`);
      this.#reread();
    }
  }

  #watchEnded(reason: WatchEnd): void {
    this.#watch = undefined;
    this.#watching = false;
    if (reason.kind === 'compacted') {
      // The history after our revision is gone: only a fresh read is correct.
      this.#owner.context.logger.debug(
        `etcd cancelled the watch on ${this.prefix} (history compacted past revision ${this.#received}); reading it again`,
        { compactRevision: reason.compactRevision },
      );
      this.#owner.context.metrics.watchRereads.add(1, CANCELLED);
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
    this.#retrier ??= new Retrier(this.#owner.context, {
      key: this.prefix,
      description: `watch ${this.prefix}`,
    });
    const stop = this.#retrier.failed(error, () => void this.#run());
    if (stop !== undefined) {
      // A watch holds no lease: anything but a retry is a refusal or the registry closing.
      this.#fail('error' in stop ? stop.error : new Error(`watch ${this.prefix} failed`));
    }
  }

  #dropWatch(): void {
    const watch = this.#watch;
    this.#watch = undefined;
    this.#watching = false;
    watch?.cancel();
  }

  #tellObservers(entries: readonly EtcdEntry[], revision: bigint, replaced: boolean): void {
    if (this.#observers.size === 0) {
      return;
    }
    const unseen = new Map(this.#observers);
    for (const entry of entries) {
      const key = entry.key.toString('latin1');
      const observer = unseen.get(key);
      if (observer !== undefined) {
        unseen.delete(key);
        observer(entry, revision, replaced);
      }
    }
    unseen.forEach((observer) => observer(undefined, revision, replaced));
  }

  #tellChanges(changes: readonly EtcdChange[]): void {
    if (this.#observers.size === 0) {
      return;
    }
    for (const change of changes) {
      const observer = this.#observers.get(change.key.toString('latin1'));
      observer?.(change.type === 'put' ? change : undefined, change.modRevision);
    }
  }
}
