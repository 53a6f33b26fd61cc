import { hasBrand } from './hasBrand';

/**
 * A value waited longer than {@link WithEndpointOptions.timeout} for an endpoint, or can never get one
 * because the list completed (the registry closed) while empty.
 *
 * @example
 * ```ts
 * requests$.pipe(withEndpoint(registry.endpoints$('api'), { timeout: 5000 })).subscribe({
 *   error: (e) => isNoEndpointError(e) && console.error('api has no live instance'),
 * });
 * ```
 */
export class NoEndpointError extends Error {
  /** Always `'NoEndpointError'`, whichever copy of gsr made it. */
  override readonly name = 'NoEndpointError';
  /** The brand {@link isNoEndpointError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isNoEndpointError = true;

  constructor(
    /** How long the value waited, in milliseconds. */
    readonly waitedMs: number,
    /** Why there is none: timed out, or the list completed. */
    readonly reason: 'timeout' | 'completed',
  ) {
    super(
      reason === 'timeout'
        ? `No endpoint became available within ${waitedMs}ms`
        : 'The endpoint list completed while empty: no endpoint will ever become available',
    );
  }
}

/** Whether `error` is a {@link NoEndpointError}. */
export const isNoEndpointError = (error: unknown): error is NoEndpointError =>
  hasBrand(error, 'isNoEndpointError');
