import type { ConnectionHealth } from '../../lib/etcd/ConnectionHealth';
import { EtcdFailure } from '../../lib/etcd/EtcdFailure';
import type {
  EtcdChange,
  EtcdPort,
  EtcdPosition,
  KeepAlive,
  KeepAliveListener,
  PrefixDelta,
  PutAnswer,
  PutOp,
  RangeResult,
  WatchHandle,
  WatchListener,
} from '../../lib/etcd/EtcdPort';
import type { SimEtcd } from './SimEtcd';

/** How the network between a client and the simulated etcd misbehaves. */
export interface Network {
  /** The longest one-way delay, ms: each message takes a random delay up to it. */
  readonly maxDelayMs: number;
  /** The chance that a request is lost before etcd applies it (the caller sees it fail). */
  readonly lostRequest: number;
  /** The chance that etcd applies a request but its answer is lost (the caller sees it fail). */
  readonly lostAnswer: number;
  /** How long a request that gets no answer takes to fail, ms (the request timeout). */
  readonly timeoutMs: number;
  /**
   * The chance that a request is held up on the way until after its caller timed out (and maybe retried
   * it): etcd applies it then, up to three timeouts later, as etcd applies what reaches it whoever is
   * still waiting. Not after the client closed.
   */
  readonly lateRequest?: number;
}

/** A watch as the client sees it. */
interface ClientWatch {
  readonly listener: WatchListener;
  readonly send: (changes: readonly EtcdChange[]) => void;
  created: boolean;
  cancelled: boolean;
}

/** The one watch stream of a client: its watches, and the order its messages arrive in. */
interface Stream {
  readonly watches: Set<ClientWatch>;
  /** When the last message sent on it arrives: later ones arrive after it. */
  lastArrival: number;
  progressAsked: boolean;
  broken: boolean;
}

const unavailable = (why: string): EtcdFailure => new EtcdFailure('unavailable', why);

/**
 * A client's connection to a {@link SimEtcd}: the {@link EtcdPort} the code under test talks to. Every
 * request travels to etcd and back with a random delay (seeded), and may be lost on the way there (not
 * applied) or back (applied, but the caller cannot know); a partition fails every request and breaks
 * every stream until healed. A watch stream delivers its messages in order; where progress is not
 * ordered (etcd before 3.4.25, etcd#15220), a requested progress notification may overtake events
 * still on their way.
 */
export class SimPort implements EtcdPort {
  readonly name: string;
  readonly progressOrdered: boolean;
  readonly #etcd: SimEtcd;
  readonly #network: Network;
  readonly #health: ConnectionHealth | undefined;
  /** When an answer of etcd last reached this client: what health's verdicts are held to. */
  lastAnswerAt = 0;
  readonly #answersProgress: boolean;
  #partitioned = false;
  #closed = false;
  #held = false;
  /** Leases granted by requests that reached etcd after their caller gave up on them. */
  readonly lateGrants = new Set<string>();
  #tokenExpired = false;
  #stream: Stream | undefined;
  readonly #keepAlives = new Set<() => void>();
  /** When the client last heard each lease granted or renewed. */
  readonly #renewedAt = new Map<string, number>();
  /** Requests sent and not answered: what a close rejects. */
  readonly #pending = new Set<(error: Error) => void>();
  /** How many requests failed on the network (lost, timed out, partitioned, an expired token). */
  failures = 0;
  /** How many requests were made, by kind (for tests of cost). */
  readonly requests = new Map<string, number>();

  constructor(
    etcd: SimEtcd,
    name: string,
    network: Network,
    options: {
      readonly progressOrdered: boolean;
      readonly health?: ConnectionHealth;
      /** `false` for a server that ignores progress requests, as etcd's 3.4 grpc-proxy does. */
      readonly answersProgress?: boolean;
    },
  ) {
    this.#etcd = etcd;
    this.name = name;
    this.#network = network;
    this.progressOrdered = options.progressOrdered;
    this.#health = options.health;
    this.#answersProgress = options.answersProgress ?? true;
  }

  get partitioned(): boolean {
    return this.#partitioned;
  }

  /** Whether any stream (watch or keepalive) is still open: after `close()`, none may be. */
  get openStreams(): number {
    return (this.#stream?.watches.size ?? 0) + this.#keepAlives.size;
  }

  /** Cuts the client off: requests fail, streams break, until {@link SimPort.heal}. */
  partition(): void {
    this.#partitioned = true;
    this.breakStreams();
  }

  heal(): void {
    this.#partitioned = false;
  }

  /** Loses every answer (etcd applied the request; its caller times out), until called with `false`. */
  holdAnswers(held: boolean): void {
    this.#held = held;
  }

  /** The next request fails because etcd no longer knows the client's auth token. */
  expireToken(): void {
    this.#tokenExpired = true;
  }

  /** Breaks the watch stream and every keepalive stream, as a reset connection does. */
  breakStreams(): void {
    this.#breakWatchStream();
    [...this.#keepAlives].forEach((fail) => fail());
  }

  range(prefix: string): Promise<RangeResult> {
    return this.#request('range', () => ({
      ...this.#position(),
      entries: this.#etcd.range(prefix),
    }));
  }

  revision(_key: string): Promise<EtcdPosition> {
    return this.#request('revision', () => this.#position());
  }

  /** Where etcd is now, as a response header says it. */
  #position(): EtcdPosition {
    return { revision: this.#etcd.revision, cluster: this.#etcd.cluster };
  }

  delta(prefix: string, revision: bigint): Promise<PrefixDelta> {
    return this.#request('delta', () => ({
      ...this.#position(),
      ...this.#etcd.delta(prefix, revision),
    }));
  }

  probe(_prefix: string): Promise<void> {
    return this.#request('probe', () => undefined);
  }

  putAll(puts: readonly PutOp[]): Promise<PutAnswer> {
    return this.#request('put', () => this.#etcd.putAll(puts, this.name));
  }

  deleteKey(
    key: string,
    ifLease?: readonly string[],
  ): Promise<{ readonly deleted: boolean; readonly revision: bigint }> {
    return this.#request('delete', () => this.#etcd.deleteKey(key, ifLease, this.name));
  }

  grantLease(ttlSeconds: number): Promise<string> {
    return this.#request('grant', () => this.#etcd.grant(ttlSeconds, this.name)).then((id) => {
      this.#renewedAt.set(id, this.#etcd.clock.now());
      return id;
    });
  }

  /** When the client last heard that etcd granted or renewed `lease`, if it ever did. */
  renewedAt(lease: string): number | undefined {
    return this.#renewedAt.get(lease);
  }

  revokeLease(lease: string): Promise<void> {
    return this.#request('revoke', () => {
      if (this.#etcd.hasLease(lease)) {
        this.#etcd.revoke(lease, this.name);
      }
    });
  }

  watch(prefix: string, startRevision: bigint, listener: WatchListener): WatchHandle {
    const stream = this.#openStream();
    if (stream === undefined) {
      this.#later(() => {
        if (!this.#closed) {
          const failure = unavailable('no connection to etcd');
          this.#health?.down(failure);
          listener.ended({ kind: 'failed', error: failure });
        }
      });
      return { requestProgress: () => undefined, cancel: () => undefined };
    }
    const watch: ClientWatch = {
      listener,
      created: false,
      cancelled: false,
      send: (changes) => this.#toClient(stream, watch, () => listener.changes(changes)),
    };
    stream.watches.add(watch);
    this.#later(() => {
      if (stream.broken || watch.cancelled) {
        return;
      }
      const started = this.#etcd.watch(Buffer.from(prefix), startRevision, watch.send);
      if ('compacted' in started) {
        this.#toClient(stream, watch, () => {
          watch.created = true;
          listener.created(this.#position());
        });
        this.#toClient(stream, watch, () => {
          stream.watches.delete(watch);
          listener.ended({ kind: 'compacted', compactRevision: started.compacted });
        });
        return;
      }
      const { revision, missed } = started;
      this.#toClient(stream, watch, () => {
        watch.created = true;
        listener.created({ revision, cluster: this.#etcd.cluster });
      });
      missed.forEach((changes) => watch.send(changes));
    });
    return {
      requestProgress: () => this.#requestProgress(stream, watch),
      cancel: () => {
        if (!watch.cancelled) {
          watch.cancelled = true;
          stream.watches.delete(watch);
          this.#later(() => this.#etcd.unwatch(watch.send));
        }
      },
    };
  }

  keepAlive(lease: string, listener: KeepAliveListener): KeepAlive {
    let lastArrival = this.#etcd.clock.now();
    let ended = false;
    const fail = (): void => {
      if (!ended) {
        ended = true;
        this.#keepAlives.delete(fail);
        this.#later(() => {
          if (!this.#closed) {
            const failure = unavailable('the keepalive stream broke');
            this.#health?.down(failure);
            listener.failed(failure);
          }
        });
      }
    };
    this.#keepAlives.add(fail);
    if (this.#partitioned) {
      fail();
    }
    return {
      renew: () => {
        if (ended || this.#closed) {
          return;
        }
        this.#count('keepalive');
        this.#later(() => {
          if (ended) {
            return;
          }
          if (this.#partitioned) {
            fail();
            return;
          }
          const ttl = this.#etcd.keepAlive(lease);
          const clock = this.#etcd.clock;
          lastArrival = Math.max(lastArrival, clock.now() + this.#delay());
          clock.at(lastArrival - clock.now(), () => {
            if (!ended && !this.#closed) {
              this.#answered();
              if (ttl > 0) {
                this.#renewedAt.set(lease, clock.now());
              }
              listener.renewed(ttl);
            }
          });
        });
      },
      close: () => {
        ended = true;
        this.#keepAlives.delete(fail);
      },
    };
  }

  #answered(): void {
    this.lastAnswerAt = this.#etcd.clock.now();
    this.#health?.up();
  }

  close(): void {
    this.#closed = true;
    this.#breakWatchStream();
    this.#keepAlives.clear();
    const closed = new EtcdFailure('closed', 'the client is closed');
    [...this.#pending].forEach((reject) => reject(closed));
    this.#pending.clear();
  }

  #request<T>(kind: string, apply: () => T): Promise<T> {
    this.#count(kind);
    const clock = this.#etcd.clock;
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) {
        reject(new EtcdFailure('closed', 'the client is closed'));
        return;
      }
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (!settled) {
          settled = true;
          this.#pending.delete(fail);
          outcome();
        }
      };
      const fail = (error: Error): void => settle(() => reject(error));
      this.#pending.add(fail);
      const timeout = (why: string): void => {
        this.failures += 1;
        // No answer within the deadline: late, as etcd3's port reports a missed deadline.
        clock.at(clock.int(0, this.#network.timeoutMs), () => {
          const late = new EtcdFailure('late', why);
          this.#health?.late(late);
          fail(late);
        });
      };
      this.#later(() => {
        if (settled) {
          return;
        }
        if (this.#partitioned) {
          timeout('etcd is unreachable');
          return;
        }
        if (this.#tokenExpired) {
          this.#tokenExpired = false;
          this.failures += 1;
          this.#later(() => {
            this.#answered(); // A refusal is an answer.
            fail(new EtcdFailure('auth-expired', 'etcdserver: invalid auth token'));
          });
          return;
        }
        if (clock.chance(this.#network.lostRequest)) {
          timeout('the request was lost');
          return;
        }
        if (clock.chance(this.#network.lateRequest ?? 0)) {
          timeout('the request was held up');
          clock.at(this.#network.timeoutMs + clock.int(0, 3 * this.#network.timeoutMs), () => {
            if (!this.#closed) {
              try {
                const result = apply(); // Nobody waits for its answer any more.
                if (kind === 'grant') {
                  this.lateGrants.add(String(result)); // A lease nobody knows of: it expires.
                }
              } catch {
                // Refused: nobody hears it.
              }
            }
          });
          return;
        }
        let outcome: () => void;
        try {
          const result = apply();
          outcome = () => {
            this.#answered();
            resolve(result);
          };
        } catch (error) {
          outcome = () => {
            this.#answered();
            reject(error instanceof Error ? error : new Error(String(error)));
          };
        }
        if (this.#held || clock.chance(this.#network.lostAnswer)) {
          timeout('the answer was lost');
          return;
        }
        this.#later(() => settle(outcome));
      });
    });
  }

  #openStream(): Stream | undefined {
    if (this.#closed || this.#partitioned) {
      return undefined;
    }
    this.#stream ??= {
      watches: new Set(),
      lastArrival: this.#etcd.clock.now(),
      progressAsked: false,
      broken: false,
    };
    return this.#stream;
  }

  /** Sends a message of `watch` to the client, after every message sent before it on the stream. */
  #toClient(stream: Stream, watch: ClientWatch, deliver: () => void): void {
    const clock = this.#etcd.clock;
    stream.lastArrival = Math.max(stream.lastArrival, clock.now() + this.#delay());
    clock.at(stream.lastArrival - clock.now(), () => {
      if (!stream.broken && !watch.cancelled && !this.#closed) {
        this.#answered(); // Any watch response is an answer, as etcd3's port counts it.
        deliver();
      }
    });
  }

  #requestProgress(stream: Stream | undefined, watch: ClientWatch): void {
    if (stream === undefined || stream.broken || !watch.created || stream.progressAsked) {
      return;
    }
    stream.progressAsked = true;
    this.#count('progress');
    this.#later(() => {
      if (stream.broken || !this.#answersProgress) {
        return;
      }
      const revision = this.#etcd.revision;
      const clock = this.#etcd.clock;
      const deliver = (): void => {
        if (stream.broken || this.#closed) {
          return;
        }
        stream.progressAsked = false;
        for (const each of [...stream.watches]) {
          if (each.created && !each.cancelled) {
            each.listener.progress(revision);
          }
        }
      };
      if (this.progressOrdered) {
        stream.lastArrival = Math.max(stream.lastArrival, clock.now() + this.#delay());
        clock.at(stream.lastArrival - clock.now(), deliver);
      } else {
        clock.at(this.#delay(), deliver); // May overtake events still on their way: etcd#15220.
      }
    });
  }

  #breakWatchStream(): void {
    const stream = this.#stream;
    if (stream === undefined) {
      return;
    }
    this.#stream = undefined;
    stream.broken = true;
    for (const watch of stream.watches) {
      this.#etcd.unwatch(watch.send);
      if (!watch.cancelled) {
        this.#later(() => {
          if (!this.#closed) {
            const failure = unavailable('the watch stream broke');
            this.#health?.down(failure);
            watch.listener.ended({ kind: 'failed', error: failure });
          }
        });
      }
    }
    stream.watches.clear();
  }

  /** Runs `fn` after a random one-way network delay. */
  #later(fn: () => void): void {
    this.#etcd.clock.at(this.#delay(), fn);
  }

  #delay(): number {
    return this.#etcd.clock.int(0, this.#network.maxDelayMs);
  }

  #count(kind: string): void {
    this.requests.set(kind, (this.requests.get(kind) ?? 0) + 1);
  }
}
