import { deepFreeze } from './deepFreeze';
import { ValidationError } from '../errors/ValidationError';
import type { Endpoint, Metadata } from './Endpoint';

// Whitespace, C0/C1 controls, and `/`, which would move the key to another place in the layout.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\s\u0000-\u001f\u007f-\u009f/]/;

/**
 * Checks a service name, so that `<prefix>services/<service>/` can only ever name that service's own
 * keys: no `/`, no whitespace or control characters, not empty, not `.` or `..`.
 *
 * @throws {@link ValidationError} naming the field and the value.
 * @internal
 */
export function validateServiceName(service: unknown, field = 'service'): string {
  return validateSegment(service, field);
}

/**
 * Checks an endpoint before anything is written: service and address as {@link validateServiceName};
 * metadata, when present, a plain object that survives a JSON round trip unchanged.
 *
 * @returns The endpoint, frozen, without a `metadata` field when none was given.
 * @throws {@link ValidationError} naming the first invalid field and its value.
 * @internal
 */
export function validateEndpoint(endpoint: unknown): Endpoint {
  if (typeof endpoint !== 'object' || endpoint === null) {
    throw new ValidationError('endpoint', endpoint, 'expected an object { service, address }');
  }
  const { service, address, metadata } = endpoint as Record<string, unknown>;
  const valid = {
    service: validateSegment(service, 'service'),
    address: validateSegment(address, 'address'),
  };
  if (metadata === undefined) {
    return Object.freeze(valid);
  }
  return Object.freeze({ ...valid, metadata: validateMetadata(metadata) });
}

function validateSegment(value: unknown, field: string): string {
  if (typeof value !== 'string') {
    throw new ValidationError(field, value, 'expected a string');
  }
  if (value === '') {
    throw new ValidationError(field, value, 'expected a non-empty string');
  }
  if (value === '.' || value === '..') {
    throw new ValidationError(field, value, 'expected a name other than "." or ".."');
  }
  if (FORBIDDEN.test(value)) {
    throw new ValidationError(
      field,
      value,
      'must not contain "/", whitespace or control characters',
    );
  }
  return value;
}

function validateMetadata(metadata: unknown): Metadata {
  const reason = 'expected a plain JSON-serialisable object';
  if (!isPlainObject(metadata)) {
    throw new ValidationError('metadata', metadata, reason);
  }
  let roundTrip: unknown;
  try {
    roundTrip = JSON.parse(JSON.stringify(metadata));
  } catch {
    throw new ValidationError('metadata', metadata, reason);
  }
  // Functions, undefined, NaN, Dates, class instances... do not survive JSON unchanged: refuse them
  // rather than publish something other than what was asked.
  if (!sameJson(metadata, roundTrip)) {
    throw new ValidationError(
      'metadata',
      metadata,
      `${reason} (it does not survive JSON unchanged)`,
    );
  }
  return deepFreeze(roundTrip as Metadata);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function sameJson(given: unknown, parsed: unknown): boolean {
  if (typeof given === 'number') {
    return Number.isFinite(given) && given === parsed;
  }
  if (given === null || typeof given === 'string' || typeof given === 'boolean') {
    return given === parsed;
  }
  if (Array.isArray(given)) {
    return (
      Array.isArray(parsed) &&
      given.length === parsed.length &&
      given.every((item, i) => sameJson(item, parsed[i]))
    );
  }
  if (isPlainObject(given) && isPlainObject(parsed)) {
    const keys = Object.keys(given);
    return (
      keys.length === Object.keys(parsed).length &&
      keys.every((key) => key in parsed && sameJson(given[key], parsed[key]))
    );
  }
  return false;
}
