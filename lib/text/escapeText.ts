/**
 * Characters that must never reach a terminal or a log line raw: C0 and C1 controls, DEL, the line and
 * paragraph separators, bidirectional overrides (which reorder what an operator reads), and lone
 * surrogates (which are not text at all). The backslash is escaped too, so that escaping is one-to-one.
 */
const UNSAFE =
  // eslint-disable-next-line no-control-regex
  /[\\\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same, for JSON text: JSON has escaped its backslashes and C0 controls already. */
const UNSAFE_IN_JSON =
  /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `text` made safe to print on one line, and bounded: every unsafe character becomes `\uXXXX` (a
 * backslash `\\`, unless `json` says the text is JSON, whose backslashes are escapes already), and
 * text beyond `maxLength` UTF-16 units is cut and counted.
 *
 * Whatever etcd hands us was written by someone else: this is how it is shown to an operator.
 * @internal
 */
export function escapeText(text: string, maxLength = 200, json = false): string {
  const cut = text.length > maxLength ? text.slice(0, maxLength) : text;
  const escaped = cut.replace(json ? UNSAFE_IN_JSON : UNSAFE, (unsafe) =>
    unsafe === '\\' ? '\\\\' : `\\u${unsafe.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return cut === text ? escaped : `${escaped}…(${text.length - maxLength} more)`;
}
