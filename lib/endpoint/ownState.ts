import type { EndpointState } from './EndpointState';
import type { Endpoint, Metadata } from './Endpoint';

/**
 * The metadata key under which an instance writes its own state (draining, failing) into its value:
 * inside the metadata, so that every reader of the key keeps working (the Go gsr ignores values; older
 * gsr versions see one more metadata field; etcd's Go resolver passes `Metadata` through untouched).
 * Keys starting with `gsr.` are gsr's own: `register()` refuses them in your metadata.
 * @internal
 */
export const STATE_KEY = 'gsr.state';

/** The states an instance sets on its own key; `maintenance` is an operator's, stored apart. @internal */
export type OwnState = Exclude<EndpointState, 'maintenance'>;

/** The metadata to write for an endpoint in `state`: as it is while serving. @internal */
export function withOwnState(
  metadata: Metadata | undefined,
  state: OwnState,
): Metadata | undefined {
  return state === 'serving' ? metadata : { ...metadata, [STATE_KEY]: state };
}

/**
 * Metadata read from etcd, with the instance's state taken out of it: `state` when it says draining or
 * failing; a `warning` when it says something else (a newer gsr's state, or anyone's junk), listed as
 * serving, which keeps an endpoint in use rather than losing it to a word this version does not know.
 * @internal
 */
export function splitOwnState(metadata: Metadata | undefined): {
  readonly metadata: Metadata | undefined;
  readonly state?: 'draining' | 'failing';
  readonly warning?: string;
} {
  if (metadata === undefined || !Object.hasOwn(metadata, STATE_KEY)) {
    return { metadata };
  }
  const { [STATE_KEY]: written, ...rest } = metadata;
  const left = Object.keys(rest).length === 0 ? undefined : Object.freeze(rest);
  if (written === 'draining' || written === 'failing') {
    return { metadata: left, state: written };
  }
  if (written === 'serving') {
    return { metadata: left };
  }
  const shown = typeof written === 'string' ? written.slice(0, 40) : typeof written;
  return {
    metadata: left,
    warning: `its "${STATE_KEY}" is ${JSON.stringify(shown)}, not a state gsr knows: listed as serving`,
  };
}

/**
 * The endpoint a layout lists for `address` with the `metadata` it read: its own state split out of the
 * metadata, and a `warning` when that state was not one gsr knows.
 * @internal
 */
export function listedEndpoint(
  service: string,
  address: string,
  read: Metadata | undefined,
): { readonly endpoint: Endpoint; readonly warning?: string } {
  const { metadata, state, warning } = splitOwnState(read);
  const endpoint: { service: string; address: string; metadata?: Metadata; state?: OwnState } = {
    service,
    address,
  };
  if (metadata !== undefined) {
    endpoint.metadata = metadata;
  }
  if (state !== undefined) {
    endpoint.state = state;
  }
  return warning === undefined
    ? { endpoint: Object.freeze(endpoint) }
    : { endpoint: Object.freeze(endpoint), warning };
}
