/**
 * Strict UTF-8: `fatal` refuses invalid bytes instead of turning them into U+FFFD (which would make two
 * different keys one string), and `ignoreBOM` keeps a leading byte-order mark instead of dropping it
 * (which would too).
 */
const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` as a string, or `undefined` when they are not valid UTF-8. Distinct byte strings always give
 * distinct strings.
 * @internal
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return STRICT.decode(bytes);
  } catch {
    return undefined;
  }
}
