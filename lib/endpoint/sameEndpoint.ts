import { isDeepStrictEqual } from 'node:util';
import type { Endpoint } from './Endpoint';

/**
 * Whether two listings of an endpoint say the same: address, state, metadata and maintenance. A
 * rewrite of the same value, or a re-read that finds it unchanged, is not a change.
 * @internal
 */
export function sameEndpoint(a: Endpoint, b: Endpoint | undefined): boolean {
  return (
    a.address === b?.address &&
    a.state === b.state &&
    isDeepStrictEqual(a.metadata, b.metadata) &&
    isDeepStrictEqual(a.maintenance, b.maintenance)
  );
}
