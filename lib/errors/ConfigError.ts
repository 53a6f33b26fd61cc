import { hasBrand } from './hasBrand';
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
  /** Its value (`undefined` when sensitive). */
  readonly value: unknown;
  /** Every invalid setting found, in schema order. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly [ConfigProblem, ...ConfigProblem[]], options?: ErrorOptions) {
    super(`Invalid gsr configuration: ${problems.map(describe).join('; ')}`, options);
    this.variable = problems[0].variable;
    this.value = problems[0].value;
    this.problems = problems;
  }
}

/** Whether `error` is a {@link ConfigError}. */
export const isConfigError = (error: unknown): error is ConfigError =>
  hasBrand(error, 'isConfigError');

function describe({ variable, value, reason }: ConfigProblem): string {
  const shown = value === undefined ? '' : `, got ${showValue(value)}`;
  return `${variable}: ${reason}${shown}`;
}
