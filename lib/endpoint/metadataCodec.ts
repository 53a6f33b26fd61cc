import { decodeUtf8 } from '../text/decodeUtf8';
import { deepFreeze } from './deepFreeze';
import type { Metadata } from './Endpoint';
import { MAX_METADATA_BYTES, MAX_METADATA_DEPTH } from './limits';
import { parseBoundedJson } from './parseBoundedJson';

/**
 * An endpoint key's value in gsr's layout: empty without metadata (what the Go gsr writes), else the
 * metadata's JSON. The metadata has been validated: it is plain JSON within the limits.
 * @internal
 */
export function encodeMetadata(metadata: Metadata | undefined): string {
  return metadata === undefined ? '' : JSON.stringify(metadata);
}

/**
 * Reads metadata that someone else wrote: `{ metadata: undefined }` for an empty value, the parsed
 * object (deep-frozen) for a JSON object within gsr's limits, or `{ error }` saying why it is not one:
 * too big, not UTF-8, not JSON, nested too deep, or not an object. The caller logs it and lists the
 * endpoint without metadata.
 * @internal
 */
export function decodeMetadata(
  value: Uint8Array,
): { readonly metadata: Metadata | undefined } | { readonly error: string } {
  if (value.length === 0) {
    return { metadata: undefined };
  }
  if (value.length > MAX_METADATA_BYTES) {
    return {
      error: `the value is ${value.length} bytes; metadata is at most ${MAX_METADATA_BYTES}`,
    };
  }
  const text = decodeUtf8(value);
  if (text === undefined) {
    return { error: 'the value is not valid UTF-8' };
  }
  const parsed = parseBoundedJson(text, MAX_METADATA_DEPTH);
  if ('error' in parsed) {
    return { error: `the value ${parsed.error}` };
  }
  return metadataOf(parsed.value);
}

/**
 * A parsed JSON value as metadata: the object, deep-frozen, or `{ error }` when it is not an object.
 * @internal
 */
export function metadataOf(
  value: unknown,
): { readonly metadata: Metadata } | { readonly error: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'the value is JSON but not an object' };
  }
  return { metadata: deepFreeze(value as Metadata) };
}
