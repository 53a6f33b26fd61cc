import type { IBackoff } from 'cockatiel';
import type { Cancel } from './Clock';
import type { EtcdOperation, Verdict } from './classifyEtcdError';
import type { EtcdContext } from './EtcdContext';

/** A verdict that retrying does not settle: the caller's to act on. */
export type StopVerdict = Exclude<Verdict, { readonly kind: 'retry' }>;

/**
 * The retry schedule of one long-lived etcd operation (a watch, a lease, a write): after each failure
 * the one classifier calls transient, the next attempt is scheduled on gsr's backoff policy; a success
 * resets it. The first failure and the recovery are logged at debug level, the attempts in between not
 * at all.
 * @internal
 */
export class Retrier {
  readonly #context: EtcdContext;
  readonly #operation: EtcdOperation;
  #backoff: IBackoff<unknown> | undefined;
  #cancel: Cancel | undefined;

  constructor(context: EtcdContext, operation: EtcdOperation) {
    this.#context = context;
    this.#operation = operation;
  }

  /** Whether an attempt is scheduled and not yet started. */
  get waiting(): boolean {
    return this.#cancel !== undefined;
  }

  /**
   * An attempt failed: schedules `again` after the next backoff delay and returns `undefined` when
   * retrying may fix it; otherwise returns the verdict, for the caller to act on.
   */
  failed(error: unknown, again: () => void): StopVerdict | undefined {
    const verdict = this.#context.verdict(error, this.#operation);
    if (verdict.kind !== 'retry') {
      return verdict;
    }
    if (this.#backoff === undefined) {
      this.#context.logger.debug(`${this.#operation.description} failed; retrying`, {
        cause: error,
      });
    }
    this.#backoff = this.#backoff?.next(undefined) ?? this.#context.backoff.next();
    this.#cancel?.();
    this.#cancel = this.#context.clock.schedule(this.#backoff.duration, () => {
      this.#cancel = undefined;
      again();
    });
    return undefined;
  }

  /** An attempt succeeded: the next failure starts the backoff afresh. */
  succeeded(): void {
    if (this.#backoff !== undefined) {
      this.#context.logger.debug(`${this.#operation.description} succeeded after retrying`);
      this.#backoff = undefined;
    }
  }

  /** Cancels the scheduled attempt, if any. */
  cancel(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
