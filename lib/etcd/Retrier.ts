import type { IBackoff } from 'cockatiel';
import type { Cancel } from './Clock';
import type { EtcdOperation, Verdict } from './classifyEtcdError';
import type { EtcdContext } from './EtcdContext';
import { isNoSpace } from './EtcdFailure';

/** A verdict that retrying does not settle: the caller's to act on. */
type StopVerdict = Exclude<Verdict, { readonly kind: 'retry' }>;

/**
 * The retry schedule of one long-lived etcd operation (a watch, a lease, a write): after each failure
 * the one classifier calls transient, the next attempt is scheduled on gsr's backoff policy; a success
 * resets it. The first failure and the recovery are logged at debug level (a warning when etcd is out
 * of space: an operator must act), the attempts in between not at all.
 * @internal
 */
export class Retrier {
  readonly #context: EtcdContext;
  readonly #operation: EtcdOperation;
  #backoff: IBackoff<unknown> | undefined;
  #cancel: Cancel | undefined;
  /** Whether this episode of failures began with etcd out of space (said as a warning). */
  #noSpace = false;

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
      if (isNoSpace(error)) {
        // Nothing retrying alone fixes: an operator must act, so it is said where operators look.
        this.#noSpace = true;
        this.#context.logger.warn(
          `${this.#operation.description} waits: etcd is out of space (NOSPACE alarm); retrying ` +
            'until an operator frees space and disarms the alarm',
        );
      } else {
        this.#context.logger.debug(`${this.#operation.description} failed; retrying`, {
          cause: error,
        });
      }
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
      this.#context.logger.log(
        this.#noSpace ? 'warn' : 'debug',
        `${this.#operation.description} succeeded after retrying`,
      );
      this.#backoff = undefined;
      this.#noSpace = false;
    }
  }

  /** Cancels the scheduled attempt, if any. */
  cancel(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }
}
