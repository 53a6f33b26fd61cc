import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Cancel, Clock } from './Clock';

/** How long each window of the measure lasts: a late answer is judged by the last one or two. */
const WINDOW_MS = 1000;

/** How long the event loop has been held up lately: measured, or not (a simulation, a unit spec). */
export interface LoopLag {
  /** The longest the event loop was held up over the last one to two seconds, in milliseconds. */
  recentMs(): number;
  /** Stops measuring. */
  close(): void;
}

/** No measure: every lag is 0 (virtual time has no event loop to lag). @internal */
export const unmeasuredLag: LoopLag = Object.freeze({ recentMs: () => 0, close: () => undefined });

/**
 * How long this process's event loop has recently been held up, so that a late answer from etcd can
 * say whether etcd was slow or this process was too busy to read the answer in time (a long
 * synchronous task, a garbage-collection pause, thousands of callbacks queued). Node's own
 * `monitorEventLoopDelay` measures it; the window rolls every second on the clock.
 * @internal
 */
export class EventLoopLag implements LoopLag {
  readonly #histogram = monitorEventLoopDelay({ resolution: 10 });
  readonly #clock: Clock;
  #previousMs = 0;
  #cancel: Cancel | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#histogram.enable();
    this.#roll();
  }

  recentMs(): number {
    return Math.round(Math.max(this.#previousMs, this.#currentMs()));
  }

  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#histogram.disable();
  }

  #currentMs(): number {
    // Before its first sample the histogram's max is 0; it is in nanoseconds.
    return this.#histogram.count === 0 ? 0 : this.#histogram.max / 1e6;
  }

  #roll(): void {
    this.#cancel = this.#clock.schedule(
      WINDOW_MS,
      () => {
        this.#previousMs = this.#currentMs();
        this.#histogram.reset();
        this.#roll();
      },
      { keepsAlive: false },
    );
  }
}
