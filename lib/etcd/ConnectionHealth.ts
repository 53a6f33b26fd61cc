import { BehaviorSubject, type Observable } from 'rxjs';
import type { Logger } from 'winston';
import { messageOf } from '../errors/messageOf';
import type { Health } from './Health';

/**
 * Whether the registry can talk to etcd, as its streams, registrations, requests and probes find out.
 * Each transition is logged once, as a warning, however many parts of the registry notice it. Until
 * etcd first answers (while `connect()` retries) failures are `connect()`'s to report, not a lost
 * connection.
 * @internal
 */
export class ConnectionHealth {
  readonly #logger: Logger;
  readonly #state = new BehaviorSubject<Health>(
    Object.freeze({ connected: false, since: new Date() }),
  );
  #everConnected = false;
  /** When etcd last answered anything (`performance.now()`). */
  #lastAnswer = 0;
  /** Long-lived streams open (watches, lease keepalives). */
  #streams = 0;
  /** The current state, then every transition. */
  readonly state$: Observable<Health> = this.#state.asObservable();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get connected(): boolean {
    return this.#state.value.connected;
  }

  /** Something succeeded against etcd: a request, a watch response, a keepalive answer. */
  up(): void {
    this.#lastAnswer = performance.now();
    const current = this.#state.value;
    if (!current.connected && !this.#state.closed) {
      if (this.#everConnected) {
        const downMs = Date.now() - current.since.getTime();
        // A warning, as its loss was: an outage is reported whole at the default level.
        this.#logger.warn(`connection to etcd restored after ${downMs}ms`);
      }
      this.#everConnected = true;
      this.#state.next(Object.freeze({ connected: true, since: new Date() }));
    }
  }

  /** Something failed against etcd in a way that retrying may fix. */
  down(cause: unknown): void {
    if (this.#state.value.connected && !this.#state.closed) {
      this.#logger.warn(`connection to etcd lost (${messageOf(cause)}); retrying`);
      this.#state.next(Object.freeze({ connected: false, since: new Date(), cause }));
    }
  }

  /**
   * A long-lived stream (a watch, a lease keepalive) is open. While one is, gRPC's keepalive pings on its
   * connection notice a dead etcd (the stream then fails and reports {@link ConnectionHealth.down})
   * without costing etcd a single request.
   */
  streamOpened(): void {
    this.#streams += 1;
  }

  /** A stream counted by {@link ConnectionHealth.streamOpened} has closed. */
  streamClosed(): void {
    this.#streams -= 1;
  }

  /**
   * Whether asking etcd would tell anything that traffic has not: while disconnected (to notice the
   * recovery), or when no stream is open and nothing proved etcd answers within the last `intervalMs`.
   */
  needsProbe(intervalMs: number): boolean {
    return (
      !this.connected || (this.#streams === 0 && performance.now() - this.#lastAnswer >= intervalMs)
    );
  }

  /** Completes `state$`. */
  close(): void {
    this.#state.complete();
  }
}
