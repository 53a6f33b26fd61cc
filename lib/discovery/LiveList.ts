import type { IWatchResponse, Watcher } from 'etcd3';
import type { Subscriber, TeardownLogic } from 'rxjs';
import type { EtcdContext } from '../etcd/EtcdContext';
import { Retrier } from '../etcd/Retrier';
import { applyUpdate } from './applyUpdate';
import type { KeyChange, PrefixState, PrefixUpdate } from './PrefixUpdate';

/** What a {@link LiveList} needs from the registry part that keeps it. @internal */
export interface LiveListOwner {
  readonly context: EtcdContext;
  /** How long a list nobody subscribes to keeps its watch. */
  readonly gracePeriodMs: number;
  /** The list has ended (its last subscriber left, it failed, or the registry closed): forget it. */
  released(list: LiveList<unknown>): void;
}

const ignore = (): void => undefined;

/** Why a prefix was read again in full, as metrics record it. */
const CANCELLED = Object.freeze({ 'gsr.reason': 'cancelled' });
const WENT_BACK = Object.freeze({ 'gsr.reason': 'revision_went_back' });

/**
 * One watched prefix, shared by every subscriber: its subscribers, the state folded from etcd, the value
 * last emitted, the etcd watch and the grace timer, in one object, the way RxJS builds `share` (instead
 * of a chain of operators and a cache beside it per service: thousands of watched services cost
 * kilobytes each less).
 *
 * It reads the prefix with one range get, then watches it from that get's revision + 1, so that nothing
 * between the two is lost or doubled. Watch responses that arrive together are applied together and
 * emitted once, from a microtask; each emission is a state etcd was in. It survives what etcd does to it:
 * a broken watch is retried on gsr's backoff and resumed after the last revision applied (tracked here,
 * not by etcd3, which takes it from response headers: while a watch catches up, a header carries etcd's
 * current revision, and a break then would skip events); a watch etcd cancelled (a compacted revision)
 * or a store whose revision went back (data replaced) is read again. Only what retrying cannot fix
 * errors it.
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
  #value: T | undefined;
  /** Applied up to here; `undefined` until the prefix has been read, or when it must be read again. */
  #revision: bigint | undefined;
  #watcher: Watcher | undefined;
  /** Whether the watcher's stream counts as open for health. */
  #streaming = false;
  #retrier: Retrier | undefined;
  #grace: NodeJS.Timeout | undefined;
  /** Changes received in this macrotask, applied together from a microtask. */
  #pending: KeyChange[] | undefined;
  #ended = false;

  constructor(owner: LiveListOwner, prefix: string, state: PrefixState<T>) {
    this.#owner = owner;
    this.prefix = prefix;
    this.#state = state;
    owner.context.metrics.watchStarts.add(1);
    void this.#run();
  }

  /** The state the list folds etcd's updates into. */
  get state(): PrefixState<T> {
    return this.#state;
  }

  /** The value last emitted, if any. */
  get value(): T | undefined {
    return this.#value;
  }

  /** The revision of etcd that {@link LiveList.value} is the state of. */
  get revision(): bigint | undefined {
    return this.#value === undefined ? undefined : this.#revision;
  }

  /** Adds a subscriber: it gets the current value at once, if there is one. */
  add(subscriber: Subscriber<T>): TeardownLogic {
    clearTimeout(this.#grace);
    this.#grace = undefined;
    this.#subscribers.push(subscriber);
    if (this.#value !== undefined) {
      subscriber.next(this.#value);
    }
    return () => this.#remove(subscriber);
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
    if (this.#subscribers.length > 0 || this.#ended || this.#grace !== undefined) {
      return;
    }
    const { gracePeriodMs } = this.#owner;
    if (gracePeriodMs === 0) {
      this.#end();
    } else {
      // A watch kept warm must not be what keeps a process alive.
      this.#grace = setTimeout(() => this.#end(), gracePeriodMs).unref();
    }
  }

  #fail(error: Error): void {
    const subscribers = this.#end();
    subscribers.forEach((subscriber) => subscriber.error(error));
  }

  /** Releases everything this list holds and tells its owner; returns the subscribers it had. */
  #end(): Subscriber<T>[] {
    const subscribers = this.#subscribers;
    if (this.#ended) {
      return [];
    }
    this.#ended = true;
    this.#subscribers = [];
    clearTimeout(this.#grace);
    this.#retrier?.cancel();
    this.#dropWatcher(true);
    this.#owner.released(this);
    return subscribers;
  }

  #emit(update: PrefixUpdate): void {
    if (!applyUpdate(this.#state, update, this.#value === undefined)) {
      return;
    }
    const value = this.#state.snapshot();
    this.#value = value;
    // A subscriber may leave (or end the list) from its own `next`.
    for (const subscriber of this.#subscribers.slice()) {
      subscriber.next(value);
    }
  }

  async #run(): Promise<void> {
    const { client, metrics } = this.#owner.context;
    try {
      if (this.#revision !== undefined) {
        metrics.watchResumes.add(1); // The first run has no revision: this is a broken watch.
      }
      if (this.#revision === undefined) {
        const range = await client.getAll().prefix(this.prefix).exec();
        if (this.#ended) {
          return;
        }
        this.#succeeded();
        this.#pending = undefined; // Superseded by the range.
        this.#revision = BigInt(range.header.revision);
        this.#emit({ kind: 'reset', entries: range.kvs });
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a subscriber's `next` may end the list
        if (this.#ended) {
          return;
        }
      }
      const watcher = client
        .watch()
        .prefix(this.prefix)
        .startRevision(String(this.#revision + 1n))
        .watcher();
      this.#watcher = watcher;
      watcher.on('connected', (response: IWatchResponse) => this.#connected(response));
      watcher.on('data', (response: IWatchResponse) => this.#data(response));
      // etcd3 re-attaches a disconnected watcher by itself, from a revision it tracks less carefully
      // (see above): drop it and start a new one from ours.
      watcher.on('disconnected', (error: unknown) => this.#retry(error, true));
      watcher.on('error', (error: unknown) => {
        // etcd cancelled the watch; the likeliest cause is a compacted start revision, after which
        // only a fresh read is correct. etcd3 has already forgotten the watcher: nothing to cancel.
        this.#owner.context.logger.debug(
          `etcd cancelled the watch on ${this.prefix}; reading it again`,
          { cause: error, revision: this.#revision },
        );
        this.#revision = undefined;
        this.#owner.context.metrics.watchRereads.add(1, CANCELLED);
        this.#retry(error, false);
      });
    } catch (error) {
      if (!this.#ended) {
        this.#retry(error, true);
      }
    }
  }

  #connected(response: IWatchResponse): void {
    if (this.#revision !== undefined && BigInt(response.header.revision) < this.#revision) {
      // etcd is behind what this list already saw: its data was replaced or restored from a backup. A
      // watch from our revision would wait silently for a "future"; only a fresh read is correct.
      this.#owner.context.logger.info(
        `etcd's revision went back under the watch on ${this.prefix}; reading it again`,
        { revision: this.#revision, etcdRevision: response.header.revision },
      );
      this.#revision = undefined;
      this.#owner.context.metrics.watchRereads.add(1, WENT_BACK);
      this.#dropWatcher(true);
      void this.#run();
      return;
    }
    if (!this.#streaming) {
      this.#streaming = true;
      this.#owner.context.health.streamOpened();
    }
    this.#succeeded();
  }

  #data(response: IWatchResponse): void {
    this.#owner.context.succeeded();
    if (response.events.length === 0) {
      // A progress notification: etcd only sends one to a watcher that has seen everything up to the
      // header's revision, so resuming from there is safe and may avoid a compacted revision.
      const progress = BigInt(response.header.revision);
      if (this.#revision !== undefined && progress > this.#revision) {
        this.#revision = progress;
      }
      return;
    }
    let last: bigint | undefined;
    for (const event of response.events) {
      const revision = BigInt(event.kv.mod_revision);
      if (this.#revision !== undefined && revision <= this.#revision) {
        continue; // Already applied, should etcd ever replay it.
      }
      const change: KeyChange = {
        type: event.type === 'Put' ? 'put' : 'delete',
        key: event.kv.key,
        value: event.kv.value,
      };
      if (this.#pending === undefined) {
        this.#pending = [change];
        // Responses that arrive together (one socket read decodes many under load) become one update:
        // one value per batch instead of one per response, and still only whole responses.
        queueMicrotask(() => this.#flush());
      } else {
        this.#pending.push(change);
      }
      last = revision;
    }
    if (last !== undefined) {
      this.#revision = last;
    }
  }

  #flush(): void {
    const changes = this.#pending;
    this.#pending = undefined;
    if (changes !== undefined && !this.#ended && this.#revision !== undefined) {
      this.#emit({ kind: 'changes', changes });
    }
  }

  #succeeded(): void {
    if (this.#retrier === undefined) {
      this.#owner.context.succeeded();
    } else {
      this.#retrier.succeeded();
    }
  }

  #retry(error: unknown, cancelWatcher: boolean): void {
    this.#dropWatcher(cancelWatcher);
    this.#retrier ??= new Retrier(this.#owner.context, {
      key: this.prefix,
      description: `watch ${this.prefix}`,
    });
    const fatal = this.#retrier.failed(error, () => void this.#run());
    if (fatal !== undefined) {
      this.#fail(fatal);
    }
  }

  #dropWatcher(cancel: boolean): void {
    const dropped = this.#watcher;
    this.#watcher = undefined;
    if (this.#streaming) {
      this.#streaming = false;
      this.#owner.context.health.streamClosed();
    }
    if (dropped !== undefined) {
      dropped.removeAllListeners();
      // etcd3 may still emit on a watcher it is tearing down; an unheard 'error' would throw.
      dropped.on('error', ignore);
      if (cancel) {
        dropped.cancel().catch(ignore);
      }
    }
  }
}
