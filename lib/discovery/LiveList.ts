import type { BulkheadPolicy } from 'cockatiel';
import type { Subscriber, TeardownLogic } from 'rxjs';
import type { Cancel } from '../etcd/Clock';
import type { EtcdContext } from '../etcd/EtcdContext';
import type { EtcdChange, EtcdEntry } from '../etcd/EtcdPort';
import type { SnapshotStore } from '../snapshot/SnapshotStore';
import type { Freshness } from './Freshness';
import { applyUpdate } from './applyUpdate';
import type { KeyObserver } from './KeyObservers';
import type { PrefixState, PrefixUpdate } from './PrefixUpdate';
import { PrefixWatch } from './PrefixWatch';

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

/**
 * How long a new list waits for etcd before it shows its snapshot: a process whose etcd answers shows
 * only live lists, and one whose etcd is down calls what it knew within a second of starting.
 */
const SNAPSHOT_WAIT_MS = 500;
const LIVE: Freshness = Object.freeze({ kind: 'live' });

/**
 * One watched prefix, shared by every subscriber: its subscribers, the state folded from etcd, the value
 * last emitted, the etcd watch and the grace timer, in one object, the way RxJS builds `share` (instead
 * of a chain of operators and a cache beside it per service: thousands of watched services cost
 * kilobytes each less).
 *
 * Its job is the sharing: subscribers of values and of changes, the value made once per state and only
 * when someone wants it, the grace period, what the state keeps for a while, and the snapshot shown
 * until etcd answers. etcd's side (the read, the watch, resuming, reading again, fences, key observers)
 * is its {@link PrefixWatch}'s; each batch it delivers is a state etcd was in, emitted once.
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
  /** etcd's side: the read, the watch, fences and key observers. */
  readonly #watch: PrefixWatch;
  #cancelGrace: Cancel | undefined;
  /** The timer that lets the state drop what it keeps for a while (see `PrefixState.expire`). */
  #cancelExpiry: Cancel | undefined;
  #expiryAt: number | undefined;
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
    this.#watch = new PrefixWatch(owner.context, owner.ranges, prefix, {
      ended: () => this.#ended,
      started: () => this.#started,
      reset: (entries, replaced) => this.#reset(entries, replaced),
      changed: (changes) => this.#changed(changes),
      needsRead: () => this.#state.needsRead === true,
      failed: (error) => this.#fail(error),
    });
    this.#watch.start();
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
      this.#watch.applied === undefined ||
      (this.#watch.count === 0 && !this.#onDisk && state.snapshotWhenEmpty !== true)
    ) {
      return;
    }
    const revision = (): bigint => this.#watch.applied ?? 0n;
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
      this.#value = this.#state.snapshot(this.#watch.applied);
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
      subscriber.next(tracker.everything(this.#current() as never, this.#watch.applied));
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
    return this.#watch.observe(key, observer);
  }

  /**
   * The list's value, once it is known to hold every write etcd confirmed before this call; `undefined`
   * when that cannot be shown cheaply (then the caller reads etcd). See {@link PrefixWatch.fence}.
   * @throws the port's failure, for the caller to classify.
   */
  async read(): Promise<T | undefined> {
    return (await this.#watch.fence()) ? this.#current() : undefined;
  }

  /** Completes every subscriber and ends: the registry is closing. */
  complete(): void {
    const subscribers = this.#end();
    subscribers.forEach((subscriber) => subscriber.complete());
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
    this.#watch.stop();
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
    const changes = tracker?.takeChanges(this.#watch.applied);
    if (this.#subscribers.length > 0) {
      const value = this.#state.snapshot(this.#watch.applied);
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
        first ? tracker?.everything(this.#current() as never, this.#watch.applied) : changes,
      );
    }
  }

  /** etcd's state, read in full: shown in place of a snapshot, and kept on disk. */
  #reset(entries: readonly EtcdEntry[], replaced: boolean): void {
    // What the list held came from this store, not from a snapshot or another cluster: a key it no
    // longer finds has left.
    const afterLive = this.#snapshotSince === undefined && !replaced;
    this.#snapshotSince = undefined;
    this.#emit({ kind: 'reset', entries, afterLive });
    this.#save();
  }

  #changed(changes: readonly EtcdChange[]): void {
    this.#emit({ kind: 'changes', changes });
    this.#save();
  }
}
