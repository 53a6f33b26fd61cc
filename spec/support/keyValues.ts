import type { KeyChange } from '../../lib/discovery/PrefixUpdate';
import type { KeyValue } from '../../lib/keys/KeyLayout';

/** A key and value as etcd sends them (bytes), from text. */
export const entry = (key: string, value = ''): KeyValue => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
});

/** A put of `key` = `value`, as a watch response carries it (`version` 1: it created the key). */
export const putOf = (key: string, value = '', version = 1): KeyChange => ({
  type: 'put',
  ...entry(key, value),
  version,
});

/** A delete of `key`, as a watch response carries it. */
export const deleteOf = (key: string): KeyChange => ({
  type: 'delete',
  ...entry(key),
  version: 0,
});
