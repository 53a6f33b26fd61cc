/**
 * How {@link Registry.drain} waits.
 *
 * @example
 * ```ts
 * await registry.drain({ delayMs: 5000, signal: AbortSignal.timeout(30_000) });
 * ```
 */
export interface DrainOptions {
  /**
   * How long to wait once etcd confirmed every key draining, for clients to see it.
   * @default `GSR_DRAIN_DELAY_MS` (2000)
   */
  readonly delayMs?: number;
  /** Stops waiting: `drain()` rejects with its reason (the keys stay draining). */
  readonly signal?: AbortSignal;
}
