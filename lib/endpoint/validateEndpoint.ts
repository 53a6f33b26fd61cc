import { messageOf } from '../errors/messageOf';
import { ValidationError } from '../errors/ValidationError';
import { deepFreeze } from './deepFreeze';
import type { Endpoint, Metadata } from './Endpoint';
import { MAX_METADATA_BYTES } from './limits';
import { metadataProblem } from './metadataProblem';
import { nameProblem } from './nameProblem';

/** Metadata keys gsr keeps for itself. */
const OWN_PREFIX = 'gsr.';

/**
 * Checks one segment of a key given by a user (a service name, an address): a string that
 * {@link nameProblem} finds nothing wrong with.
 *
 * @param slash Whether `/` is allowed (etcd's naming layout allows it).
 * @throws {@link ValidationError} naming the field, the value (bounded) and the rule it breaks.
 * @internal
 */
export function validateName(value: unknown, field: string, slash = false): string {
  if (typeof value !== 'string') {
    throw new ValidationError(field, value, 'expected a string');
  }
  const problem = nameProblem(value, slash);
  if (problem !== undefined) {
    throw new ValidationError(field, value, problem);
  }
  return value;
}

/**
 * Checks metadata given by a user before anything is written: a plain object that survives JSON
 * unchanged, with no cycle, at most 32 levels deep and 64 KiB as JSON.
 *
 * @returns A deep-frozen copy, as JSON gives it back.
 * @throws {@link ValidationError} naming the rule it breaks and where.
 * @internal
 */
function validateMetadata(metadata: unknown): Metadata {
  let problem: string | undefined;
  let json = '';
  try {
    problem = metadataProblem(metadata);
    json = problem === undefined ? JSON.stringify(metadata) : '';
  } catch (error) {
    // A getter, a `toJSON` or a Proxy trap that throws: metadata that cannot even be read.
    problem = `it cannot be read (${messageOf(error)})`;
  }
  if (problem !== undefined) {
    throw new ValidationError('metadata', metadata, `expected a plain JSON object: ${problem}`);
  }
  const own = Object.keys(metadata as Metadata).find((key) => key.startsWith(OWN_PREFIX));
  if (own !== undefined) {
    throw new ValidationError(
      `metadata.${own.slice(0, 40)}`,
      (metadata as Metadata)[own],
      `keys starting with "${OWN_PREFIX}" are gsr's own (its state is written there)`,
    );
  }
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_METADATA_BYTES) {
    throw new ValidationError(
      'metadata',
      metadata,
      `it is ${bytes} bytes as JSON; at most ${MAX_METADATA_BYTES}`,
    );
  }
  return deepFreeze(JSON.parse(json) as Metadata);
}

/**
 * What keeps `address` from being `host:port`, or `undefined`: a host name or IPv4 address (or an IPv6
 * address in brackets), a colon and a port from 1 to 65535. Every consumer gsr serves dials one: a
 * balancer's call, gRPC, Prometheus, xDS. With `socketPaths`, gRPC's `unix:` and `unix-abstract:`
 * addresses pass too (etcd's naming layout, whose Go clients dial them).
 * @internal
 */
export function addressProblem(address: string, socketPaths = false): string | undefined {
  if (socketPaths && /^unix(?:-abstract)?:./.test(address)) {
    return undefined;
  }
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (match === null) {
    return 'expected host:port (an IPv6 address in brackets: [::1]:8080)';
  }
  return port >= 1 && port <= 65535 ? undefined : `expected a port from 1 to 65535, got ${port}`;
}

/**
 * Checks an endpoint before anything is written: service and address (by `checkService` and
 * {@link validateName}), and metadata, when present, by {@link validateMetadata}.
 *
 * @returns The endpoint, frozen, without a `metadata` field when none was given.
 * @throws {@link ValidationError} naming the first invalid field and its value.
 * @internal
 */
export function validateEndpoint(
  endpoint: unknown,
  checkService: (service: unknown) => string = (service) => validateName(service, 'service'),
  addressMayHoldSlash = false,
): Endpoint {
  const { service, address, metadata, state, maintenance } = readEndpoint(endpoint);
  for (const [field, value] of [
    ['state', state],
    ['maintenance', maintenance],
  ] as const) {
    if (value !== undefined) {
      throw new ValidationError(
        field,
        value,
        'an endpoint is registered serving: registry.drain(), health checks and operators set its state',
      );
    }
  }
  const valid = {
    service: checkService(service),
    address: validateName(address, 'address', addressMayHoldSlash),
  };
  const problem = addressProblem(valid.address, addressMayHoldSlash);
  if (problem !== undefined) {
    throw new ValidationError('address', valid.address, problem);
  }
  return Object.freeze(
    metadata === undefined ? valid : { ...valid, metadata: validateMetadata(metadata) },
  );
}

/**
 * The fields of something given as an endpoint, read once: a `ValidationError` when it is not an object,
 * or reading it throws (a getter, a Proxy).
 * @internal
 */
export function readEndpoint(endpoint: unknown): {
  readonly service: unknown;
  readonly address: unknown;
  readonly metadata: unknown;
  readonly state: unknown;
  readonly maintenance: unknown;
} {
  if (typeof endpoint !== 'object' || endpoint === null) {
    throw new ValidationError('endpoint', endpoint, 'expected an object { service, address }');
  }
  try {
    const { service, address, metadata, state, maintenance } = endpoint as Record<string, unknown>;
    return { service, address, metadata, state, maintenance };
  } catch (error) {
    throw new ValidationError('endpoint', endpoint, `it cannot be read (${messageOf(error)})`);
  }
}
