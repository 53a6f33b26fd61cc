import { hasBrand } from './hasBrand';

/**
 * What was asked is well-formed but cannot be done in the state things are in (gRPC's
 * `FAILED_PRECONDITION`): draining an address the service does not list, an override past the limit
 * gsr applies, a port another process holds, an optional package that is not installed. Nothing was
 * written to etcd. Unlike a {@link ValidationError}, the same request can succeed once the state
 * changes.
 *
 * @example
 * ```ts
 * await registry.setMaintenance('web', '10.0.0.7:80').catch((e) => {
 *   if (isPreconditionError(e)) console.error(`cannot ${e.operation}: ${e.reason}`);
 * });
 * ```
 */
export class PreconditionError extends Error {
  /** Always `'PreconditionError'`, whichever copy of gsr made it. */
  override readonly name = 'PreconditionError';
  /** The brand {@link isPreconditionError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isPreconditionError = true;

  constructor(
    /** What was asked, e.g. `put web 10.0.0.7:80 in maintenance`. */
    readonly operation: string,
    /** Why it cannot be done now, and what would make it possible. */
    readonly reason: string,
    /**
     * The argument whose value the state refuses, when one is (`--port` for a port that is taken,
     * `address` for one the service does not list): another value would do.
     */
    readonly field?: string,
  ) {
    super(`Cannot ${operation}: ${reason}`);
  }
}

/** Whether `error` is a {@link PreconditionError}. */
export const isPreconditionError = (error: unknown): error is PreconditionError =>
  hasBrand(error, 'isPreconditionError');
