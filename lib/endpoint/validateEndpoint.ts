import { ValidationError } from '../errors/ValidationError';
import { deepFreeze } from './deepFreeze';
import type { Endpoint, Metadata } from './Endpoint';
import { MAX_METADATA_BYTES } from './limits';
import { metadataProblem } from './metadataProblem';
import { nameProblem } from './nameProblem';

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
export function validateMetadata(metadata: unknown): Metadata {
  const problem = metadataProblem(metadata);
  if (problem !== undefined) {
    throw new ValidationError('metadata', metadata, `expected a plain JSON object: ${problem}`);
  }
  const json = JSON.stringify(metadata);
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
  if (typeof endpoint !== 'object' || endpoint === null) {
    throw new ValidationError('endpoint', endpoint, 'expected an object { service, address }');
  }
  const { service, address, metadata } = endpoint as Record<string, unknown>;
  const valid = {
    service: checkService(service),
    address: validateName(address, 'address', addressMayHoldSlash),
  };
  return Object.freeze(
    metadata === undefined ? valid : { ...valid, metadata: validateMetadata(metadata) },
  );
}
