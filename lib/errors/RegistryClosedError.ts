import { hasBrand } from './hasBrand';

/**
 * The registry was closed: the operation was asked of it, or was still under way, after `close()`.
 *
 * @example
 * ```ts
 * await registry.close();
 * await registry.endpoints('web').catch((e) => isRegistryClosedError(e)); // true
 * ```
 */
export class RegistryClosedError extends Error {
  /** Always `'RegistryClosedError'`, whichever copy of gsr made it. */
  override readonly name = 'RegistryClosedError';
  /** The brand {@link isRegistryClosedError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isRegistryClosedError = true;

  constructor(
    /** What was asked, e.g. `endpoints("web")`. */
    readonly operation: string,
  ) {
    super(`The gsr registry is closed; cannot ${operation}`);
  }
}

/** Whether `error` is a {@link RegistryClosedError}. */
export const isRegistryClosedError = (error: unknown): error is RegistryClosedError =>
  hasBrand(error, 'isRegistryClosedError');
