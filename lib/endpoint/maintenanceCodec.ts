import { ValidationError } from '../errors/ValidationError';
import { decodeUtf8 } from '../text/decodeUtf8';
import type { Maintenance } from './Maintenance';
import { parseBoundedJson } from './parseBoundedJson';

/** The longest reason kept, in characters: a sentence, not a document. */
const MAX_REASON_LENGTH = 200;
/** The largest override value read, in bytes. */
const MAX_VALUE_BYTES = 4096;

/** An override's value: `{"state":"maintenance","reason":...,"since":...}`. @internal */
export function encodeMaintenance(maintenance: Maintenance): string {
  return JSON.stringify({ state: 'maintenance', ...maintenance });
}

/**
 * An override's value read back (anyone may have written it): the maintenance it says, with its reason
 * cut to {@link MAX_REASON_LENGTH} characters and its date kept only when it is one, or why it is not
 * an override.
 * @internal
 */
export function decodeMaintenance(
  value: Uint8Array,
): { readonly maintenance: Maintenance } | { readonly skip: string } {
  if (value.length > MAX_VALUE_BYTES) {
    return { skip: `the value is ${value.length} bytes; at most ${MAX_VALUE_BYTES}` };
  }
  const text = decodeUtf8(value);
  const parsed = text === undefined ? undefined : parseBoundedJson(text, 2);
  if (parsed === undefined || 'error' in parsed) {
    return { skip: `the value ${parsed === undefined ? 'is not valid UTF-8' : parsed.error}` };
  }
  const written = parsed.value as Record<string, unknown> | null;
  if (typeof written !== 'object' || written === null || written.state !== 'maintenance') {
    return { skip: 'the value is not {"state":"maintenance",...}' };
  }
  const reason =
    typeof written.reason === 'string' ? written.reason.slice(0, MAX_REASON_LENGTH) : '';
  const since =
    typeof written.since === 'string' &&
    written.since.length <= 40 &&
    !Number.isNaN(Date.parse(written.since))
      ? written.since
      : undefined;
  return {
    maintenance: Object.freeze(since === undefined ? { reason } : { reason, since }),
  };
}

/**
 * Checks an operator's reason before it is written: a line of text, at most
 * {@link MAX_REASON_LENGTH} characters; none is the empty reason.
 * @throws ValidationError naming `reason` and its value.
 * @internal
 */
export function validateReason(reason: unknown): string {
  if (reason === undefined) {
    return '';
  }
  if (typeof reason !== 'string') {
    throw new ValidationError('reason', reason, 'expected a string');
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new ValidationError('reason', reason, `expected at most ${MAX_REASON_LENGTH} characters`);
  }
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  if (/[\u0000-\u001f\u007f-\u009f]/.test(reason)) {
    throw new ValidationError('reason', reason, 'expected one line without control characters');
  }
  return reason;
}
