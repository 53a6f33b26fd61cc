import { messageOf } from '../errors/messageOf';
import { isRetryableError } from './isRetryableError';
import { RetryBudget, type RetryBudgetOptions } from './RetryBudget';

/** What a call may override of its balancer's retries. @internal */
interface RetryOverrides {
  readonly retries?: number;
  readonly retryable?: (error: unknown) => boolean;
}

/**
 * When a balancer retries a failed call: while the call has attempts left (`retries`), the failure is
 * one `retryable` accepts, an endpoint not tried yet is left, and the retry budget allows it. A
 * `retryable` of the user's that throws says no, logged once by `warn`.
 * @internal
 */
export class RetryPolicy {
  readonly #retries: number;
  readonly #retryable: (error: unknown) => boolean;
  readonly #budget: RetryBudget | undefined;
  readonly #warn: (message: string) => void;

  constructor(
    options: RetryOverrides & { readonly retryBudget?: RetryBudgetOptions | false },
    warn: (message: string) => void,
  ) {
    this.#retries = options.retries ?? 2;
    this.#retryable = options.retryable ?? isRetryableError;
    this.#budget = options.retryBudget === false ? undefined : new RetryBudget(options.retryBudget);
    this.#warn = warn;
  }

  /** A call starts: the budget counts it. */
  called(now: number): void {
    this.#budget?.deposit(now);
  }

  /**
   * Whether a call that failed with `error` after `failures` attempts is retried, given `untried`
   * endpoints it could go to; a yes takes a retry from the budget.
   */
  retries(
    error: unknown,
    failures: number,
    untried: () => number,
    now: number,
    overrides: RetryOverrides,
  ): boolean {
    return (
      failures <= (overrides.retries ?? this.#retries) &&
      this.#accepts(overrides.retryable ?? this.#retryable, error) &&
      untried() > 0 &&
      (this.#budget?.tryWithdraw(now) ?? true)
    );
  }

  #accepts(retryable: (error: unknown) => boolean, error: unknown): boolean {
    try {
      return retryable(error);
    } catch (thrown) {
      this.#warn(`balancer: the retryable function threw (${messageOf(thrown)}); not retrying`);
      return false;
    }
  }
}
