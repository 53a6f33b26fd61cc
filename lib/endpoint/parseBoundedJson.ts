/**
 * Parses JSON text written by someone else: `{ value }`, or `{ error }` (`is not JSON`, `nests deeper
 * than …`) when it is not JSON or nests
 * deeper than `maxDepth`. `JSON.parse` itself takes any depth, but a value nested ten thousand deep
 * overflows the stack of whatever walks it next (freezing, comparing, printing), so the depth is
 * counted first, in one pass over the text.
 * @internal
 */
export function parseBoundedJson(
  text: string,
  maxDepth: number,
): { readonly value: unknown } | { readonly error: string } {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) {
        i++; // The escaped character cannot end the string.
      } else if (code === 0x22) {
        inString = false;
      }
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > maxDepth) {
        return { error: `nests deeper than ${maxDepth} levels` };
      }
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { error: 'is not JSON' };
  }
}
