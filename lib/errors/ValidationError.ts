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
  override readonly name = 'ValidationError';

  constructor(
    /** The invalid field, e.g. `service`, `address` or `metadata`. */
    readonly field: string,
    /** The value it had. */
    readonly value: unknown,
    /** What was expected. */
    readonly reason: string,
  ) {
    super(`Invalid ${field} ${show(value)}: ${reason}`);
  }
}

/** Whether `error` is a {@link ValidationError}. */
export const isValidationError = (error: unknown): error is ValidationError =>
  error instanceof ValidationError;

function show(value: unknown): string {
  if (value === undefined) {
    return '(missing)';
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined; // A cycle, or a bigint.
  }
  return json ?? `(a ${typeof value})`;
}
