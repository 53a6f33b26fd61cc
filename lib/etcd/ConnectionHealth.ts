import { BehaviorSubject, type Observable } from 'rxjs';
import type { Logger } from 'winston';
import type { Health } from './Health';

/**
 * Whether the registry can talk to etcd, as its streams, registrations, requests and probes find out.
 * Each transition is logged once, at info level, however many parts of the registry notice it. Until
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
  /** The current state, then every transition. */
  readonly state$: Observable<Health> = this.#state.asObservable();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get connected(): boolean {
    return this.#state.value.connected;
  }

  /** Something succeeded against etcd. */
  up(): void {
    const current = this.#state.value;
    if (!current.connected && !this.#state.closed) {
      if (this.#everConnected) {
        const downMs = Date.now() - current.since.getTime();
        this.#logger.info(`connection to etcd restored after ${downMs}ms`);
      }
      this.#everConnected = true;
      this.#state.next(Object.freeze({ connected: true, since: new Date() }));
    }
  }

  /** Something failed against etcd in a way that retrying may fix. */
  down(cause: unknown): void {
    if (this.#state.value.connected && !this.#state.closed) {
      this.#logger.info('connection to etcd lost; retrying', { cause });
      this.#state.next(Object.freeze({ connected: false, since: new Date(), cause }));
    }
  }

  /** Completes `state$`. */
  close(): void {
    this.#state.complete();
  }
}
