import type { WarnLog } from './OnceLog';

/**
 * Warnings whose number someone else decides (what network clients send: an xDS client's NACKs, the
 * type URLs it asks for): at most `lines` per `windowMs`, so that a client repeating itself a thousand
 * times a second costs a few lines, never the disk. What was left out is counted, and said by the next
 * line that is written.
 * @internal
 */
export class LogBudget {
  readonly #log: WarnLog;
  readonly #lines: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  #windowStart = Number.NEGATIVE_INFINITY;
  #written = 0;
  #leftOut = 0;

  constructor(log: WarnLog, budget: { lines: number; windowMs: number; now: () => number }) {
    this.#log = log;
    this.#lines = budget.lines;
    this.#windowMs = budget.windowMs;
    this.#now = budget.now;
  }

  /** How many warnings were left out since the last one written. */
  get leftOut(): number {
    return this.#leftOut;
  }

  /** Writes `message` at warn level, unless this window's lines are spent (then it is counted). */
  warn(message: string): void {
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written >= this.#lines) {
      this.#leftOut += 1;
      return;
    }
    this.#written += 1;
    const leftOut = this.#leftOut;
    this.#leftOut = 0;
    this.#log.warn(
      leftOut === 0 ? message : `${message} (${leftOut} more like it were left out of the log)`,
    );
  }
}
