/** Cancels what {@link Clock.schedule} scheduled; calling it again, or after it ran, does nothing. */
export type Cancel = () => void;

/**
 * Time and chance as gsr's core sees them: handed in, never read from globals, so that a simulation can
 * run the same code in virtual time with seeded randomness and replay one seed exactly.
 * @internal
 */
export interface Clock {
  /** Milliseconds since a fixed point: the epoch for the system clock. */
  now(): number;
  /**
   * Runs `fn` once after `delayMs`. A wait with `keepsAlive: false` does not keep the process alive
   * (a grace period, say); by default it does, as `setTimeout` does.
   */
  schedule(delayMs: number, fn: () => void, options?: { readonly keepsAlive?: boolean }): Cancel;
  /** A number in [0, 1). */
  random(): number;
}

/** The real clock: `Date.now()`, Node's timers and `Math.random()`. @internal */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, fn, options) {
    const timer = setTimeout(fn, delayMs);
    if (options?.keepsAlive === false) {
      timer.unref();
    }
    return () => clearTimeout(timer);
  },
  random: () => Math.random(),
};
