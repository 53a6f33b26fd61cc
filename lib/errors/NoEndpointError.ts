import { escapeText } from '../text/escapeText';
import { hasBrand } from './hasBrand';

/**
 * A call (or a value) waited longer than its timeout for an endpoint, or can never get one: its list
 * ended while empty (the registry closed), or its balancer was closed. It names the service, where the
 * list says which (a list from `registry.endpoints$(service)` does).
 *
 * @example
 * ```ts
 * await balancer.call(fn).catch((e) => {
 *   if (isNoEndpointError(e)) console.error(`${e.service ?? 'the service'} has no live instance`);
 * });
 * ```
 */
export class NoEndpointError extends Error {
  /** Always `'NoEndpointError'`, whichever copy of gsr made it. */
  override readonly name = 'NoEndpointError';
  /** The brand {@link isNoEndpointError} checks: true across copies of gsr, where `instanceof` is not. */
  readonly isNoEndpointError = true;

  constructor(
    /** How long it waited, in milliseconds. */
    readonly waitedMs: number,
    /** Why there is none: it timed out, the list completed, or the balancer was closed. */
    readonly reason: 'timeout' | 'completed' | 'closed',
    /** The service whose endpoint it waited for, when known. */
    readonly service?: string,
    /** What else it waited for, when the list itself did (subsetting's peers). */
    readonly waitedFor?: string,
  ) {
    const of = service === undefined ? '' : ` of "${escapeText(service, 120)}"`;
    const waiting = waitedFor === undefined ? '' : `: it waited for ${waitedFor}`;
    super(
      reason === 'timeout'
        ? `No endpoint${of} became available within ${Math.round(waitedMs)}ms${waiting}`
        : reason === 'closed'
          ? `The balancer${of} was closed while a call waited ${Math.round(waitedMs)}ms for an endpoint`
          : `The endpoint list${of} ended while empty (its registry was closed): no endpoint will become available`,
    );
  }
}

/** Whether `error` is a {@link NoEndpointError}. */
export const isNoEndpointError = (error: unknown): error is NoEndpointError =>
  hasBrand(error, 'isNoEndpointError');
