import { MAX_NAME_BYTES } from './limits';

// Whitespace, C0/C1 controls and DEL; and `/`, which would move the key elsewhere in the layout.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\s\u0000-\u001f\u007f-\u009f]/;

/**
 * What is wrong with `name` as one segment of an etcd key (a service name, an address), or `undefined`
 * when nothing is: so that a key can only ever name what it seems to, prints on one line, and encodes
 * to UTF-8 one way (a lone surrogate has no encoding: two such names would become one key).
 *
 * @param slash Whether `/` is allowed (etcd's naming layout allows it in targets and addresses).
 * @internal
 */
export function nameProblem(name: string, slash = false): string | undefined {
  if (name === '') {
    return 'expected a non-empty string';
  }
  if (name === '.' || name === '..') {
    return 'expected a name other than "." or ".."';
  }
  if (!name.isWellFormed()) {
    return 'must be well-formed Unicode (it holds a lone surrogate, which has no UTF-8 encoding)';
  }
  if (FORBIDDEN.test(name) || (!slash && name.includes('/'))) {
    return slash
      ? 'must not contain whitespace or control characters'
      : 'must not contain "/", whitespace or control characters';
  }
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_NAME_BYTES) {
    return `must be at most ${MAX_NAME_BYTES} bytes in UTF-8 (it is ${bytes})`;
  }
  return undefined;
}
