/**
 * Normalises `GSR_KEY_PREFIX` the way the Go gsr does (trailing slashes become exactly one), so that both
 * libraries write and read the same keys: `gsr` and `gsr///` both become `gsr/`.
 *
 * @throws Error when the prefix is empty or holds whitespace or control characters.
 * @internal
 */
export function normalizeKeyPrefix(raw: unknown): string {
  if (typeof raw !== 'string') {
    throw new Error(`expected a string, found ${typeof raw}`);
  }
  if (raw === '') {
    throw new Error('expected a non-empty key prefix (use "/" for the root of the keyspace)');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) {
    throw new Error('expected a key prefix without whitespace or control characters');
  }
  return `${raw.replace(/\/+$/, '')}/`;
}
