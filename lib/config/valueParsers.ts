/**
 * Parsers for scalar configuration values. Each accepts the typed value a caller passes in code, or the
 * string an environment variable holds, and throws an Error whose message says what was expected.
 * @internal
 */

const TRUE = new Set(['1', 't', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'f', 'false', 'no', 'off']);

/** An integer of at least 1, such as a lease TTL in seconds. */
export function positiveInteger(raw: unknown): number {
  const value = toNumber(raw, /^\d+$/);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error('expected a whole number of at least 1');
  }
  return value;
}

/** An integer of at least 0, such as a log level. */
export function nonNegativeInteger(raw: unknown): number {
  const value = toNumber(raw, /^\d+$/);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error('expected a whole number of at least 0');
  }
  return value;
}

/** A duration in seconds greater than 0; fractions are allowed (`0.5`). */
export function positiveSeconds(raw: unknown): number {
  const value = toNumber(raw, /^(\d+\.?\d*|\.\d+)$/);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error('expected a number of seconds greater than 0');
  }
  return value;
}

/** A boolean: `true`/`false`, or in the environment one of 1, t, true, yes, on / 0, f, false, no, off. */
export function boolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') {
    return raw;
  }
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
  if (text !== undefined && TRUE.has(text)) {
    return true;
  }
  if (text !== undefined && FALSE.has(text)) {
    return false;
  }
  throw new Error('expected true or false (or 1/0, yes/no, on/off)');
}

/** A non-empty string, such as a file path or a user name. */
export function nonEmptyString(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new Error('expected a non-empty string');
  }
  return raw;
}

/** Either nothing (`null`/`undefined`) or a non-empty string. */
export function optionalString(raw: unknown): string | undefined {
  return raw === null || raw === undefined ? undefined : nonEmptyString(raw);
}

function toNumber(raw: unknown, pattern: RegExp): number {
  if (typeof raw === 'number') {
    return raw;
  }
  if (typeof raw === 'string' && pattern.test(raw.trim())) {
    return Number(raw.trim());
  }
  return NaN;
}
