import { hasBrand } from './hasBrand';
import { messageOf } from './messageOf';

/**
 * A balancer's strategy function failed: it threw, or it returned an endpoint that is not one of those
 * it was given. The call that needed a pick rejects with it (the process never sees it), and nothing is
 * counted against any endpoint.
 *
 * @example
 * ```ts
 * balancer.call(fn).catch((e) => {
 *   if (isStrategyError(e)) console.error(`fix the strategy: ${e.message}`);
 * });
 * ```
 */
export class StrategyError extends Error {
  /** Always `'StrategyError'`, whichever copy of gsr made it. */
  override readonly name = 'StrategyError';
  /** The brand {@link isStrategyError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isStrategyError = true;

  constructor(
    /** What went wrong: `threw`, or `returned an endpoint that is not in the list`. */
    readonly reason: 'threw' | 'returned an endpoint that is not in the list',
    /** What the strategy threw, when it did. */
    override readonly cause?: unknown,
  ) {
    super(
      reason === 'threw'
        ? `The balancer's strategy threw: ${messageOf(cause)}`
        : "The balancer's strategy returned an endpoint that is not in the list it was given",
      { cause },
    );
  }
}

/** Whether `error` is a {@link StrategyError}. */
export const isStrategyError = (error: unknown): error is StrategyError =>
  hasBrand(error, 'isStrategyError');
