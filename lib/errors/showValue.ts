import { escapeText } from '../text/escapeText';

/**
 * A value as an error message quotes it: JSON, escaped and cut to `maxLength`, so that a rejected 10 KB
 * value (or one with a newline or a terminal escape in it) does not flood or corrupt a log line.
 * Values JSON cannot show say what they are instead.
 * @internal
 */
export function showValue(value: unknown, maxLength = 120): string {
  if (value === undefined) {
    return '(missing)';
  }
  if (typeof value === 'string') {
    return `"${escapeText(value, maxLength)}"`;
  }
  if (typeof value === 'bigint') {
    return `${value}n`;
  }
  if (typeof value === 'function' || typeof value === 'symbol') {
    return `(a ${typeof value})`;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // A cycle, a bigint inside, or nesting deeper than the stack.
  }
  return json === undefined ? `(a ${typeof value})` : escapeText(json, maxLength, true);
}
