import type { Endpoint } from '../endpoint/Endpoint';
import { type OwnState, withOwnState } from '../endpoint/ownState';
import type { KeyLayout } from '../keys/KeyLayout';

/**
 * The value a registration writes: `endpoint` in `layout`'s encoding, its metadata saying its own
 * `state` (and, with `writtenAt`, when it was sent, for readers' propagation histogram).
 * @internal
 */
export function ownValue(
  layout: KeyLayout,
  endpoint: Endpoint,
  state: OwnState,
  writtenAt?: number,
): string {
  return layout.encodeValue({
    ...endpoint,
    metadata: withOwnState(endpoint.metadata, state, writtenAt),
  });
}
