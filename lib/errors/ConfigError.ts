import { hasBrand } from './hasBrand';
import { maskCredentials } from '../text/maskCredentials';
import { showValue } from './showValue';

/** One invalid setting: where it came from, what it held, and what was expected. */
export interface ConfigProblem {
  /** The environment variable (`GSR_LEASE_SECONDS`) or, for a value given in code, the option name. */
  readonly variable: string;
  /** The value as given; `undefined` for a sensitive setting, so that it never reaches a log. */
  readonly value: unknown;
  /** What was expected, e.g. `expected a whole number of at least 1`. */
  readonly reason: string;
}

/**
 * gsr's configuration is invalid. Thrown by {@link loadConfig} and rejected by `Registry.connect()`
 * before anything talks to etcd; gsr never falls back to a default in place of a bad value.
 *
 * @example
 * ```ts
 * try {
 *   await Registry.connect();
 * } catch (e) {
 *   if (isConfigError(e)) console.error(`fix ${e.variable}: ${e.message}`);
 * }
 * ```
 */
export class ConfigError extends Error {
  /** Always `'ConfigError'`, whichever copy of gsr made it. */
  override readonly name = 'ConfigError';
  /** The brand {@link isConfigError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isConfigError = true;
  /** The first invalid variable (or option). */
  readonly variable: string;
  /** Its value (`undefined` when sensitive; credentials in it masked). */
  readonly value: unknown;
  /** Every invalid setting found, in schema order, credentials in their values masked. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly [ConfigProblem, ...ConfigProblem[]], options?: ErrorOptions) {
    // A password put where it does not belong (an endpoint URL) is not printed back.
    const masked = problems.map(({ variable, value, reason }) => ({
      variable,
      value: typeof value === 'string' ? maskCredentials(value) : value,
      reason: maskCredentials(reason),
    })) as unknown as readonly [ConfigProblem, ...ConfigProblem[]];
    super(`Invalid gsr configuration: ${masked.map(describe).join('; ')}`, options);
    this.variable = masked[0].variable;
    this.value = masked[0].value;
    this.problems = masked;
  }
}

/** Whether `error` is a {@link ConfigError}. */
export const isConfigError = (error: unknown): error is ConfigError =>
  hasBrand(error, 'isConfigError');

function describe({ variable, value, reason }: ConfigProblem): string {
  const shown = value === undefined ? '' : `, got ${showValue(value)}`;
  return `${variable}: ${reason}${shown}`;
}
