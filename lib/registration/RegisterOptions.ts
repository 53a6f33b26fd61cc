import { ValidationError } from '../errors/ValidationError';

/**
 * How a registration checks its own health: {@link Registry.register}'s second argument.
 *
 * @example
 * ```ts
 * registry
 *   .register(endpoint, {
 *     check: async (signal) => {
 *       const response = await fetch('http://127.0.0.1:8080/healthz', { signal });
 *       if (!response.ok) throw new Error(`healthz answered ${response.status}`);
 *     },
 *     checkIntervalMs: 5000,
 *   })
 *   .subscribe();
 * ```
 */
export interface RegisterOptions {
  /**
   * Whether the instance can serve: resolving (or returning) passes, throwing or rejecting fails, and so
   * does not settling within `checkTimeoutMs` (the signal is then aborted). The first check runs at
   * once, and the key is first written with its outcome.
   */
  readonly check?: (signal: AbortSignal) => unknown;
  /** Between the end of one check and the start of the next. @default 5000 */
  readonly checkIntervalMs?: number;
  /** How long a check may take before it counts as failed. @default 2000 */
  readonly checkTimeoutMs?: number;
  /** Failures in a row after which a serving endpoint is marked failing. @default 3 */
  readonly unhealthyAfter?: number;
  /** Passes in a row after which a failing endpoint is marked serving again. @default 2 */
  readonly healthyAfter?: number;
}

/** {@link RegisterOptions} with a check, checked and completed with the defaults. @internal */
export interface HealthCheckSettings {
  readonly check: (signal: AbortSignal) => unknown;
  readonly checkIntervalMs: number;
  readonly checkTimeoutMs: number;
  readonly unhealthyAfter: number;
  readonly healthyAfter: number;
}

const LIMITS = {
  checkIntervalMs: [10, 86_400_000, 5000],
  checkTimeoutMs: [1, 3_600_000, 2000],
  unhealthyAfter: [1, 1000, 3],
  healthyAfter: [1, 1000, 2],
} as const;

/**
 * Checks register options before anything is written: `undefined` without a check.
 *
 * @throws {@link ValidationError} naming the option and its value.
 * @internal
 */
export function healthCheckSettings(options: unknown): HealthCheckSettings | undefined {
  if (options === undefined) {
    return undefined;
  }
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError(
      'options',
      options,
      'expected an object { check, checkIntervalMs, ... }',
    );
  }
  const given = options as Record<string, unknown>;
  const { check } = given;
  if (check === undefined) {
    const stray = Object.keys(LIMITS).find((name) => given[name] !== undefined);
    if (stray !== undefined) {
      throw new ValidationError(stray, given[stray], 'it needs a check: options.check is missing');
    }
    return undefined;
  }
  if (typeof check !== 'function') {
    throw new ValidationError('check', check, 'expected a function (signal) => void | Promise');
  }
  const number = (name: keyof typeof LIMITS): number => {
    const [min, max, fallback] = LIMITS[name];
    const value = given[name] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ValidationError(name, value, `expected an integer from ${min} to ${max}`);
    }
    return value;
  };
  return {
    check: check as (signal: AbortSignal) => unknown,
    checkIntervalMs: number('checkIntervalMs'),
    checkTimeoutMs: number('checkTimeoutMs'),
    unhealthyAfter: number('unhealthyAfter'),
    healthyAfter: number('healthyAfter'),
  };
}
