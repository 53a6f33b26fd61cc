import type { KeyChange } from '../../lib/discovery/PrefixUpdate';
import type { KeyValue } from '../../lib/keys/KeyLayout';

/** A key and value as etcd sends them (bytes), from text. */
export const entry = (key: string, value = ''): KeyValue => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
});

/** A put of `key` = `value`, as a watch response carries it. */
export const putOf = (key: string, value = ''): KeyChange => ({
  type: 'put',
  ...entry(key, value),
});

/** A delete of `key`, as a watch response carries it. */
export const deleteOf = (key: string): KeyChange => ({ type: 'delete', ...entry(key) });
