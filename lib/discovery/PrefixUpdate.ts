/**
 * A key and its value, as etcd sends them: bytes. Each view decodes what it needs (an endpoint list the
 * address and metadata, the service names only the key), so nothing is decoded twice or for nothing.
 * @internal
 */
export interface KeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
}

/** A change to one key. @internal */
export interface KeyChange extends KeyValue {
  readonly type: 'put' | 'delete';
}

/**
 * What {@link watchPrefix} emits: the whole prefix as of a revision (first, and again after the watch
 * could not resume), or the changes of one watch response, in revision order.
 * @internal
 */
export type PrefixUpdate =
  | { readonly kind: 'reset'; readonly revision: bigint; readonly entries: readonly KeyValue[] }
  | { readonly kind: 'changes'; readonly revision: bigint; readonly changes: readonly KeyChange[] };

/**
 * A view kept up to date by {@link PrefixUpdate}s: `reset` and `apply` say whether the view changed, and
 * `snapshot` is its current, immutable value.
 * @internal
 */
export interface PrefixState<T> {
  reset(entries: readonly KeyValue[]): boolean;
  apply(changes: readonly KeyChange[]): boolean;
  snapshot(): T;
}
