/**
 * Raw bytes (a key that is not valid UTF-8, say) as printable ASCII: bytes 0x21-0x7e as they are,
 * every other byte (and the backslash) as `\xNN`; bytes beyond `maxBytes` are cut and counted.
 * @internal
 */
export function escapeBytes(bytes: Uint8Array, maxBytes = 200): string {
  let text = '';
  const end = Math.min(bytes.length, maxBytes);
  for (let i = 0; i < end; i++) {
    const byte = bytes[i] as number;
    text +=
      byte > 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return end === bytes.length ? text : `${text}…(${bytes.length - end} more bytes)`;
}
