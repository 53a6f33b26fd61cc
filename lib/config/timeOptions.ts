import { ConfigError } from '../errors/ConfigError';
import { ValidationError } from '../errors/ValidationError';

/** The longest timer Node holds, ms. @internal */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long a stream nobody subscribes to any more keeps its etcd watch, by default. */
const DEFAULT_WATCH_GRACE_PERIOD_MS = 1000;

/**
 * `Registry.connect`'s `watchGracePeriodMs`, checked with the rest of the configuration: a number of
 * milliseconds a timer can hold (1 s when not given).
 * @throws ConfigError naming `watchGracePeriodMs` and its value.
 * @internal
 */
export function watchGracePeriodOf(value: unknown): number {
  const ms = value ?? DEFAULT_WATCH_GRACE_PERIOD_MS;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS) {
    throw new ConfigError([
      {
        variable: 'watchGracePeriodMs',
        value,
        reason: `expected a number of milliseconds from 0 to ${MAX_TIMER_MS} (what Node's timers hold)`,
      },
    ]);
  }
  return ms;
}

/**
 * `drain()`'s `delayMs`: a whole number of milliseconds a timer can hold.
 * @throws ValidationError naming `delayMs` and its value.
 * @internal
 */
export function drainDelayOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new ValidationError('delayMs', value, `expected an integer from 0 to ${MAX_TIMER_MS}`);
  }
  return value;
}
