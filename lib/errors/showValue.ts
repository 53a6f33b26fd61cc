import { escapeText } from '../text/escapeText';
import { withArticle } from '../text/withArticle';

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
    return `(${withArticle(typeof value)})`;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    // A cycle, a bigint inside, nesting deeper than the stack, a getter or a Proxy that throws.
  }
  return json === undefined ? `(${withArticle(typeof value)})` : escapeText(json, maxLength, true);
}
