import { deepFreeze } from './deepFreeze';
import type { Metadata } from './Endpoint';

/**
 * An endpoint key's value: empty without metadata (what the Go gsr writes), else the metadata's JSON.
 * @internal
 */
export function encodeMetadata(metadata: Metadata | undefined): string {
  return metadata === undefined ? '' : JSON.stringify(metadata);
}

/**
 * Reads an endpoint key's value: `{ metadata: undefined }` when empty, the parsed object when it is a JSON
 * object, or `{ error }` saying why it is not (the caller logs it and lists the endpoint without
 * metadata).
 * @internal
 */
export function decodeMetadata(
  value: string,
): { readonly metadata: Metadata | undefined } | { readonly error: string } {
  if (value === '') {
    return { metadata: undefined };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { error: 'the value is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: 'the value is JSON but not an object' };
  }
  return { metadata: deepFreeze(parsed as Metadata) };
}
