import type { Clock } from './Clock';

/** Each bucket's upper bound is this much above the one before: a quantile is known within 25 %. */
const GROWTH = 1.25;
/** The quantiles cover the last one to two halves of a minute. */
const HALF_MS = 30_000;

/**
 * Durations of etcd requests over about the last minute, in logarithmic buckets (bounded memory
 * whatever the rate), for a quantile in a log line.
 * @internal
 */
export class LatencyWindow {
  readonly #clock: Clock;
  #current = new Map<number, number>();
  #previous = new Map<number, number>();
  #currentSince: number;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#currentSince = clock.now();
  }

  /** A request took `ms` milliseconds. */
  record(ms: number): void {
    this.#roll();
    const bucket = Math.max(0, Math.ceil(Math.log(Math.max(ms, 1)) / Math.log(GROWTH)));
    this.#current.set(bucket, (this.#current.get(bucket) ?? 0) + 1);
  }

  /**
   * The duration under which `q` (0-1) of the requests of about the last minute finished, rounded up
   * to its bucket's bound; `undefined` when none finished.
   */
  quantileMs(q: number): number | undefined {
    this.#roll();
    const counts = new Map(this.#previous);
    this.#current.forEach((count, bucket) => counts.set(bucket, (counts.get(bucket) ?? 0) + count));
    const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
    if (total === 0) {
      return undefined;
    }
    let seen = 0;
    for (const bucket of [...counts.keys()].sort((a, b) => a - b)) {
      seen += counts.get(bucket) ?? 0;
      if (seen >= q * total) {
        return Math.round(GROWTH ** bucket);
      }
    }
    return undefined;
  }

  #roll(): void {
    const elapsed = this.#clock.now() - this.#currentSince;
    if (elapsed < HALF_MS) {
      return;
    }
    this.#previous = elapsed < 2 * HALF_MS ? this.#current : new Map<number, number>();
    this.#current = new Map<number, number>();
    this.#currentSince = this.#clock.now();
  }
}
