import { escapeText } from '../text/escapeText';

/**
 * What the CLI prints of data it read from etcd, where anyone may have written it: a string escaped
 * (controls, bidirectional overrides, lone surrogates become `\uXXXX`), or a value as JSON escaped the
 * same way; never cut, since it is the command's output, and always one line.
 */
export function printable(value: unknown): string {
  return typeof value === 'string'
    ? escapeText(value, Infinity)
    : escapeText(JSON.stringify(value), Infinity, true);
}
