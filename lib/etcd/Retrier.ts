import type { IBackoff } from 'cockatiel';
import type { EtcdOperation } from './classifyEtcdError';
import type { EtcdContext } from './EtcdContext';
import { retryBackoff } from './retryBackoff';

/**
 * The retry schedule of one long-lived etcd operation (a watch, a lease, a write): after each transient
 * failure, the next attempt is scheduled on gsr's one backoff policy; a success resets it. The first
 * failure and the recovery are logged at debug level, the attempts in between not at all.
 * @internal
 */
export class Retrier {
  readonly #context: EtcdContext;
  readonly #operation: EtcdOperation;
  #backoff: IBackoff<unknown> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(context: EtcdContext, operation: EtcdOperation) {
    this.#context = context;
    this.#operation = operation;
  }

  /** Whether an attempt is scheduled and not yet started. */
  get waiting(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * An attempt failed: returns the typed error when retrying cannot fix it; otherwise schedules `again`
   * after the next backoff delay and returns `undefined`.
   */
  failed(error: unknown, again: () => void): Error | undefined {
    const fatal = this.#context.failed(error, this.#operation);
    if (fatal !== undefined) {
      return fatal;
    }
    if (this.#backoff === undefined) {
      this.#context.logger.debug(`${this.#operation.description} failed; retrying`, {
        cause: error,
      });
    }
    this.#backoff = this.#backoff?.next(undefined) ?? retryBackoff.next();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      again();
    }, this.#backoff.duration);
    return undefined;
  }

  /** An attempt succeeded: the next failure starts the backoff afresh. */
  succeeded(): void {
    if (this.#backoff !== undefined) {
      this.#context.logger.debug(`${this.#operation.description} succeeded after retrying`);
      this.#backoff = undefined;
    }
    this.#context.succeeded();
  }

  /** Cancels the scheduled attempt, if any. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
