import { BehaviorSubject, distinctUntilChanged, type Observable } from 'rxjs';
import type { Logger } from 'winston';

/**
 * Whether the registry can talk to etcd, as its streams, registrations and requests find out.
 * @internal
 */
export class ConnectionHealth {
  readonly #logger: Logger;
  readonly #connected = new BehaviorSubject(true);
  /** `true` while etcd answers, `false` from the first failure until the next success. */
  readonly connected$: Observable<boolean>;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.connected$ = this.#connected.pipe(distinctUntilChanged());
  }

  get connected(): boolean {
    return this.#connected.value;
  }

  /** Something succeeded against etcd. */
  up(): void {
    if (!this.#connected.value) {
      this.#logger.info('connection to etcd restored');
      this.#connected.next(true);
    }
  }

  /** Something failed against etcd in a way that retrying may fix. */
  down(cause: unknown): void {
    if (this.#connected.value) {
      this.#logger.info('connection to etcd lost; retrying', { cause });
      this.#connected.next(false);
    }
  }

  /** Completes `connected$`. */
  close(): void {
    this.#connected.complete();
  }
}
