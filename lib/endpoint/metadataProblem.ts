import { escapeText } from '../text/escapeText';
import { withArticle } from '../text/withArticle';
import { MAX_METADATA_BYTES, MAX_METADATA_DEPTH } from './limits';

type Frame =
  | { readonly value: unknown; readonly path: string; readonly depth: number }
  | { readonly leave: object };

/**
 * What keeps `metadata` from being a plain JSON object within gsr's limits, or `undefined`: the first
 * rule it breaks, and where (`metadata.a.b is a BigInt, which JSON cannot represent`). It walks with a stack of its own (never recursion), stops at the first
 * problem and after at most {@link MAX_METADATA_BYTES} values, so that neither a cycle, nor nesting ten
 * thousand deep, nor a huge object can make it overflow or spin.
 * @internal
 */
export function metadataProblem(metadata: unknown): string | undefined {
  if (!isPlainObject(metadata)) {
    return `it is ${kindOf(metadata)}`;
  }
  const stack: Frame[] = [{ value: metadata, path: 'metadata', depth: 1 }];
  const enclosing = new Set<object>();
  let values = 0;
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if ('leave' in frame) {
      enclosing.delete(frame.leave);
      continue;
    }
    const { value, path, depth } = frame;
    // Every value takes at least a byte of JSON: more values than bytes allowed is too big.
    if (++values > MAX_METADATA_BYTES) {
      return `it is more than ${MAX_METADATA_BYTES} bytes as JSON; at most ${MAX_METADATA_BYTES}`;
    }
    const problem = scalarProblem(value);
    if (problem !== undefined) {
      return `${show(path)} ${problem}`;
    }
    if (typeof value !== 'object' || value === null) {
      continue;
    }
    if (enclosing.has(value)) {
      return `it contains a cycle (${show(path)} refers back to an object that holds it)`;
    }
    if (depth > MAX_METADATA_DEPTH) {
      return `it nests deeper than ${MAX_METADATA_DEPTH} levels`;
    }
    if (!Array.isArray(value) && !isPlainObject(value)) {
      return `${show(path)} is ${kindOf(value)}, not a plain object, and does not survive JSON unchanged`;
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      return `${show(path)} has symbol keys, which do not survive JSON`;
    }
    enclosing.add(value);
    stack.push({ leave: value });
    if (Array.isArray(value)) {
      value.forEach((item: unknown, i) =>
        stack.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 }),
      );
    } else {
      for (const [key, item] of Object.entries(value)) {
        stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

/** What is wrong with a value that is not an object, if anything. */
function scalarProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return 'is a BigInt, which JSON cannot represent';
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : `is ${value}, which does not survive JSON unchanged`;
    case 'undefined':
    case 'function':
    case 'symbol':
      return `is ${typeof value === 'undefined' ? 'undefined' : withArticle(typeof value)}, which does not survive JSON unchanged`;
    default:
      return undefined;
  }
}

/** `a string`, `an array`, `null`, `a Date`: what a value is, for a message. */
function kindOf(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' ? withArticle(name) : 'an object';
  }
  return typeof value === 'undefined' ? 'undefined' : withArticle(typeof value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A path into metadata as a message shows it: bounded and escaped. */
function show(path: string): string {
  return escapeText(path, 80);
}
