import type { EndpointState } from './EndpointState';
import type { Endpoint, Metadata } from './Endpoint';

/**
 * The metadata key under which an instance writes its own state (draining, failing) into its value:
 * inside the metadata, so that every reader of the key keeps working (the Go gsr ignores values; older
 * gsr versions see one more metadata field; etcd's Go resolver passes `Metadata` through untouched).
 * Keys starting with `gsr.` are gsr's own: `register()` refuses them in your metadata.
 * @internal
 */
const STATE_KEY = 'gsr.state';

/**
 * The metadata key under which a registry that stamps its writes (`GSR_STAMP_WRITES`) puts the time of
 * each write, epoch milliseconds on its clock: what a reader's propagation histogram measures from.
 * @internal
 */
const WRITTEN_KEY = 'gsr.written';

/** The states an instance sets on its own key; `maintenance` is an operator's, stored apart. @internal */
export type OwnState = Exclude<EndpointState, 'maintenance'>;

/**
 * The metadata to write for an endpoint in `state` (as it is while serving), stamped with `writtenAt`
 * when given. @internal
 */
export function withOwnState(
  metadata: Metadata | undefined,
  state: OwnState,
  writtenAt?: number,
): Metadata | undefined {
  const stated = state === 'serving' ? metadata : { ...metadata, [STATE_KEY]: state };
  return writtenAt === undefined ? stated : { ...stated, [WRITTEN_KEY]: writtenAt };
}

/**
 * Metadata read from etcd, with the instance's state taken out of it: `state` when it says draining or
 * failing; a `warning` when it says something else (a newer gsr's state, or anyone's junk), listed as
 * serving, which keeps an endpoint in use rather than losing it to a word this version does not know.
 * @internal
 */
export function splitOwnState(read: Metadata | undefined): {
  readonly metadata: Metadata | undefined;
  readonly state?: 'draining' | 'failing';
  readonly warning?: string;
  readonly writtenAt?: number;
} {
  if (read === undefined || !Object.hasOwn(read, WRITTEN_KEY)) {
    return splitState(read);
  }
  const { [WRITTEN_KEY]: stamp, ...others } = read;
  const split = splitState(Object.keys(others).length === 0 ? undefined : Object.freeze(others));
  // Anyone's junk is no time: measured only when it is one (a number of ms within the years gsr runs).
  return typeof stamp === 'number' && Number.isSafeInteger(stamp) && stamp > 0
    ? { ...split, writtenAt: stamp }
    : split;
}

function splitState(metadata: Metadata | undefined): {
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
): { readonly endpoint: Endpoint; readonly warning?: string; readonly writtenAt?: number } {
  const { metadata, state, warning, writtenAt } = splitOwnState(read);
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
  const listed = { endpoint: Object.freeze(endpoint) };
  const warned = warning === undefined ? listed : { ...listed, warning };
  return writtenAt === undefined ? warned : { ...warned, writtenAt };
}
