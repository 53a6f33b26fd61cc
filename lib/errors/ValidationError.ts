import { hasBrand } from './hasBrand';
import { showValue } from './showValue';

/**
 * An argument is invalid: a service name, an address or metadata that gsr cannot write or watch. Nothing
 * was written to etcd.
 *
 * @example
 * ```ts
 * registry.register({ service: 'web', address: '' }).subscribe({
 *   error: (e) => isValidationError(e) && console.error(`${e.field} is ${JSON.stringify(e.value)}`),
 * });
 * ```
 */
export class ValidationError extends Error {
  /** Always `'ValidationError'`, whichever copy of gsr made it. */
  override readonly name = 'ValidationError';
  /** The brand {@link isValidationError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isValidationError = true;

  constructor(
    /** The invalid field, e.g. `service`, `address` or `metadata`. */
    readonly field: string,
    /** The value it had (messages quote at most a bounded, escaped prefix of it). */
    readonly value: unknown,
    /** What was expected. */
    readonly reason: string,
  ) {
    super(`Invalid ${field} ${showValue(value)}: ${reason}`);
  }
}

/** Whether `error` is a {@link ValidationError}. */
export const isValidationError = (error: unknown): error is ValidationError =>
  hasBrand(error, 'isValidationError');
