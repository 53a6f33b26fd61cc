/** How many slices the budget's window is counted in. */
const SLICES = 10;

/** A balancer's retry budget (`BalancerOptions.retryBudget`): Finagle's design, and tower's. */
export interface RetryBudgetOptions {
  /**
   * Retries allowed, as a percentage of the calls made in the window.
   * @default 20
   */
  readonly percent?: number;
  /**
   * Retries allowed per second whatever the traffic, so that a quiet client can still retry.
   * @default 10
   */
  readonly minPerSecond?: number;
  /**
   * How long a call counts for, in milliseconds.
   * @default 10000
   */
  readonly windowMs?: number;
}

/**
 * A retry budget, as Finagle and tower keep one: over a sliding window, retries may add at most
 * `percent` % to the calls made, plus `minPerSecond` per second, so that an outage does not turn every
 * call into three and a struggling service into a retry storm. Calls and retries are counted in ten
 * slices of the window, each forgotten when the window has moved past it.
 * @internal
 */
export class RetryBudget {
  readonly #percent: number;
  readonly #reserve: number;
  readonly #sliceMs: number;
  readonly #calls = new Array<number>(SLICES).fill(0);
  readonly #retries = new Array<number>(SLICES).fill(0);
  /** The slice counted last, in slice numbers since the epoch. */
  #slice = 0;

  constructor({ percent = 20, minPerSecond = 10, windowMs = 10_000 }: RetryBudgetOptions = {}) {
    this.#percent = percent;
    this.#reserve = (minPerSecond * windowMs) / 1000;
    this.#sliceMs = windowMs / SLICES;
  }

  /** A call was made (first attempts only): it earns `percent` % of a retry. */
  deposit(now: number): void {
    this.#calls[this.#advance(now)] = (this.#calls[this.#advance(now)] ?? 0) + 1;
  }

  /** Takes one retry from the budget, if it has one. */
  tryWithdraw(now: number): boolean {
    const slice = this.#advance(now);
    const calls = this.#calls.reduce((sum, n) => sum + n, 0);
    const retries = this.#retries.reduce((sum, n) => sum + n, 0);
    if (retries + 1 > this.#reserve + (calls * this.#percent) / 100) {
      return false;
    }
    this.#retries[slice] = (this.#retries[slice] ?? 0) + 1;
    return true;
  }

  /** The index of the current slice, forgetting the slices the window has left behind. */
  #advance(now: number): number {
    const slice = Math.floor(now / this.#sliceMs);
    const passed = Math.min(slice - this.#slice, SLICES);
    for (let i = 1; i <= passed; i++) {
      const index = (this.#slice + i) % SLICES;
      this.#calls[index] = 0;
      this.#retries[index] = 0;
    }
    if (passed > 0) {
      this.#slice = slice;
    }
    return slice % SLICES;
  }
}
