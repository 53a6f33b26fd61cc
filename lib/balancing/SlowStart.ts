/**
 * Slow start, as Envoy does it: an endpoint that arrives after the balancer's first list gets, `t` ms
 * after the balancer first saw it, `weight × max(minWeightPercent / 100, (t / windowMs) ^ (1 /
 * aggression))` until `windowMs` has passed; endpoints of the first list are not slowed.
 *
 * @example
 * ```ts
 * const balancer = new Balancer(registry.endpoints$('api'), {
 *   slowStart: { windowMs: 30_000, aggression: 1, minWeightPercent: 10 },
 * });
 * ```
 */
export interface SlowStartOptions {
  /** How long a new endpoint ramps up, ms. */
  readonly windowMs: number;
  /** 1 ramps linearly; above 1 it starts faster, below 1 slower. @default 1 */
  readonly aggression?: number;
  /** The share of its weight a new endpoint starts with, in percent. @default 10 */
  readonly minWeightPercent?: number;
}

/**
 * The factor of a ramping endpoint's weight `elapsedMs` after it arrived: in (0, 1], 1 once the window
 * is over.
 * @internal
 */
export function slowStartFactor(
  elapsedMs: number,
  { windowMs, aggression = 1, minWeightPercent = 10 }: SlowStartOptions,
): number {
  if (elapsedMs >= windowMs) {
    return 1;
  }
  const ramp = Math.max(0, elapsedMs / windowMs) ** (1 / aggression);
  return Math.max(minWeightPercent / 100, ramp);
}
