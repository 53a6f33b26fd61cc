/**
 * The key range of every key that starts with `prefix`, as etcd takes it: from `prefix` to the first key
 * after them all; the empty prefix is every key (`\0` to `\0`, etcd's convention).
 * @internal
 */
export function prefixRange(prefix: string): { readonly key: Buffer; readonly range_end: Buffer } {
  if (prefix === '') {
    return { key: Buffer.from([0]), range_end: Buffer.from([0]) };
  }
  const key = Buffer.from(prefix);
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return { key, range_end: end.subarray(0, i + 1) };
    }
  }
  return { key, range_end: Buffer.from([0]) }; // Every key from `prefix` on.
}
