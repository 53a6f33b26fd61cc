import type { EventEmitter } from 'node:events';
import { prefixRange } from '../prefixRange';
import {
  castGrpcErrorMessage,
  type IDuplexStream,
  type IEvent,
  type IWatchRequest,
  type IWatchResponse,
} from 'etcd3';
import type { ConnectionHealth } from '../ConnectionHealth';
import type { EtcdChange, WatchHandle, WatchListener } from '../EtcdPort';
import { positionOf } from './positionOf';
import { toEtcdFailure } from './toEtcdFailure';

type Stream = IDuplexStream<IWatchRequest, IWatchResponse>;

/** One watch on the stream: waiting to be created, being created, or active under etcd's id. */
interface Watch {
  readonly prefix: string;
  readonly startRevision: bigint;
  readonly listener: WatchListener;
  id: string | undefined;
  cancelled: boolean;
}

/** etcd's id for responses that concern every watch of a stream: requested progress. */
const EVERY_WATCH = '-1';
const ignore = (): void => undefined;

/**
 * All the watches of one registry on one gRPC stream, as etcd's own clients multiplex them; opened with
 * the first watch, dropped (reset, see {@link dropStream}) once the last is cancelled.
 *
 * gsr keeps its own rather than etcd3's `WatchManager`, which takes a progress notification (a response
 * for watch id -1) for a protocol error and throws, and which re-attaches a broken watch by itself from a
 * revision it tracks less carefully than discovery does. Here a broken stream ends every watch on it
 * (`ended`, with the failure); their owners resume from the revision they applied.
 *
 * Creations go one at a time (etcd answers them in order, but 3.4's grpc-proxy assigns its own ids).
 * @internal
 */
export class WatchStream {
  readonly #open: () => Promise<Stream>;
  readonly #health: ConnectionHealth;
  #stream: Stream | undefined;
  #opening = false;
  /** Watches whose create request has not been sent. */
  readonly #queue: Watch[] = [];
  /** The watch whose create request was sent, until etcd answers it. */
  #creating: Watch | undefined;
  readonly #active = new Map<string, Watch>();
  /** Whether a progress request is unanswered: one at a time is enough for every watch. */
  #progressAsked = false;
  /** Whether the stream counts as open for health (it has answered). */
  #streaming = false;
  #closed = false;

  constructor(open: () => Promise<Stream>, health: ConnectionHealth) {
    this.#open = open;
    this.#health = health;
  }

  watch(prefix: string, startRevision: bigint, listener: WatchListener): WatchHandle {
    const watch: Watch = { prefix, startRevision, listener, id: undefined, cancelled: false };
    if (this.#closed) {
      queueMicrotask(() =>
        listener.ended({ kind: 'failed', error: toEtcdFailure(new Error('closed')) }),
      );
    } else {
      this.#queue.push(watch);
      this.#pump();
    }
    return {
      requestProgress: () => this.#requestProgress(watch),
      cancel: () => this.#cancel(watch),
    };
  }

  /** Ends the stream; its watches hear nothing more. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
    this.#creating = undefined;
    this.#active.clear();
    this.#drop();
  }

  #pump(): void {
    if (this.#stream === undefined) {
      if (!this.#opening && this.#queue.length > 0) {
        this.#connect();
      }
      return;
    }
    while (this.#creating === undefined && this.#queue.length > 0) {
      const watch = this.#queue.shift() as Watch;
      this.#creating = watch;
      this.#stream.write({
        create_request: {
          ...prefixRange(watch.prefix),
          start_revision: String(watch.startRevision),
        },
      });
    }
  }

  #connect(): void {
    this.#opening = true;
    this.#open().then(
      (stream) => {
        this.#opening = false;
        if (this.#closed || this.#queue.length === 0) {
          dropStream(stream);
          return;
        }
        this.#stream = stream;
        stream.on('data', (response: IWatchResponse) => this.#received(stream, response));
        stream.on('error', (error: unknown) => this.#broken(stream, error));
        stream.on('end', () => this.#broken(stream, new Error('etcd ended the watch stream')));
        this.#pump();
      },
      (error: unknown) => {
        this.#opening = false;
        this.#broken(undefined, error);
      },
    );
  }

  #received(stream: Stream, response: IWatchResponse): void {
    if (stream !== this.#stream) {
      return;
    }
    this.#health.up();
    if (!this.#streaming) {
      this.#streaming = true;
      this.#health.streamOpened();
    }
    const revision = BigInt(response.header.revision);
    if (response.created) {
      this.#created(response);
      this.#pump();
      return;
    }
    if (response.watch_id === EVERY_WATCH) {
      this.#progressAsked = false;
      for (const watch of [...this.#active.values()]) {
        if (this.#active.get(watch.id as string) === watch) {
          watch.listener.progress(revision);
        }
      }
      return;
    }
    const watch = this.#active.get(response.watch_id);
    if (watch === undefined) {
      return; // Cancelled here meanwhile.
    }
    if (response.canceled) {
      this.#active.delete(response.watch_id);
      watch.listener.ended(
        response.compact_revision !== '0'
          ? { kind: 'compacted', compactRevision: BigInt(response.compact_revision) }
          : { kind: 'failed', error: cancelled(response) },
      );
    } else if (response.events.length > 0) {
      watch.listener.changes(response.events.map(toChange));
    } else {
      watch.listener.progress(revision);
    }
  }

  #created(response: IWatchResponse): void {
    const watch = this.#creating;
    this.#creating = undefined;
    if (watch === undefined) {
      return;
    }
    if (response.canceled) {
      // etcd refused the watch itself: a permission denied, or an invalid request.
      if (!watch.cancelled) {
        watch.listener.ended({ kind: 'failed', error: cancelled(response) });
      }
      return;
    }
    watch.id = response.watch_id;
    if (watch.cancelled) {
      this.#stream?.write({ cancel_request: { watch_id: response.watch_id } });
      this.#dropIfIdle();
      return;
    }
    this.#active.set(response.watch_id, watch);
    watch.listener.created(positionOf(response.header));
  }

  #requestProgress(watch: Watch): void {
    if (this.#stream === undefined || watch.id === undefined || watch.cancelled) {
      return;
    }
    if (!this.#progressAsked) {
      this.#progressAsked = true;
      this.#stream.write({ progress_request: {} });
    }
  }

  #cancel(watch: Watch): void {
    if (watch.cancelled) {
      return;
    }
    watch.cancelled = true;
    const queued = this.#queue.indexOf(watch);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
    } else if (watch.id !== undefined && this.#active.get(watch.id) === watch) {
      this.#active.delete(watch.id);
      this.#stream?.write({ cancel_request: { watch_id: watch.id } });
    }
    this.#dropIfIdle();
  }

  /** With no watch left, the stream goes: etcd ends it, and the next watch opens a new one. */
  #dropIfIdle(): void {
    if (this.#queue.length === 0 && this.#creating === undefined && this.#active.size === 0) {
      this.#drop();
    }
  }

  #drop(): void {
    const stream = this.#stream;
    this.#forget();
    if (stream !== undefined) {
      dropStream(stream);
    }
  }

  /** The stream failed: every watch on it ends, and the next watch opens a new one. */
  #broken(stream: Stream | undefined, raw: unknown): void {
    if (stream !== this.#stream) {
      return;
    }
    const error = toEtcdFailure(raw);
    const watches = [
      ...(this.#creating === undefined ? [] : [this.#creating]),
      ...this.#active.values(),
      ...this.#queue,
    ].filter((watch) => !watch.cancelled);
    this.#queue.length = 0;
    this.#creating = undefined;
    this.#active.clear();
    this.#forget();
    if (stream !== undefined) {
      stream.on('error', ignore);
    }
    if (!this.#closed) {
      this.#health.down(raw);
    }
    watches.forEach((watch) => watch.listener.ended({ kind: 'failed', error }));
  }

  #forget(): void {
    this.#stream = undefined;
    this.#progressAsked = false;
    if (this.#streaming) {
      this.#streaming = false;
      this.#health.streamClosed();
    }
  }
}

/**
 * Ends a gRPC stream of etcd3's (RST_STREAM), its failure ignored. etcd3's own error listener goes
 * first: it takes a cancelled stream for a failed member and resets every channel to it.
 *
 * The reset is sent from a turn of its own. Node 20's HTTP/2 layer spins when a stream is reset from
 * inside its own handling of received data, which is where a continuation of an answered call runs
 * (seen on 20.20: `Http2Stream::RstStream` grows its output buffer until `std::bad_alloc`): a lease
 * released right after etcd answered the put that marked its key leaving. Nor is the stream half-closed
 * first: resetting one whose write side had ended while etcd's answer was still arriving spins alike.
 * @internal
 */
export function dropStream<T, R>(stream: IDuplexStream<T, R>): void {
  // etcd3 types its streams without their EventEmitter side; grpc-js's are EventEmitters.
  (stream as unknown as EventEmitter).removeAllListeners('error');
  stream.on('error', ignore);
  setImmediate(() => stream.cancel());
}

function cancelled(response: IWatchResponse): unknown {
  return toEtcdFailure(castGrpcErrorMessage(response.cancel_reason || 'etcd cancelled the watch'));
}

function toChange(event: IEvent): EtcdChange {
  const { kv } = event;
  return {
    type: event.type === 'Delete' ? 'delete' : 'put',
    key: kv.key,
    value: kv.value,
    modRevision: BigInt(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease,
  };
}
