import type { KeyValue } from '../keys/KeyLayout';

/** A change to one key. @internal */
export interface KeyChange extends KeyValue {
  readonly type: 'put' | 'delete';
  /** The key's version after the change: 1 for a put that created it, 0 for a delete. */
  readonly version: number;
}

/**
 * What a prefix's watch delivers: the whole prefix as of a revision (first, and again after the watch
 * could not resume), or the changes of the watch responses that arrived together, in revision order.
 * @internal
 */
export type PrefixUpdate =
  | { readonly kind: 'reset'; readonly entries: readonly KeyValue[] }
  | { readonly kind: 'changes'; readonly changes: readonly KeyChange[] };

/**
 * A view kept up to date by {@link PrefixUpdate}s: `reset` and `apply` say whether the view changed, and
 * `snapshot` is its current, immutable value.
 * @internal
 */
export interface PrefixState<T> {
  reset(entries: readonly KeyValue[]): boolean;
  apply(changes: readonly KeyChange[]): boolean;
  /**
   * Whether the state left out what it could not hold and can be right again only by a new read of the
   * whole prefix (then {@link PrefixState.reset}).
   */
  readonly needsRead?: boolean;
  /** @param revision The etcd revision the state is at, when known. */
  snapshot(revision?: bigint): T;
  /**
   * Entries that {@link PrefixState.reset} makes this state from again: what a snapshot on disk keeps.
   * A state without it is not written to disk.
   */
  entries?(): readonly KeyValue[];
  /**
   * Whether the state is written to disk when it holds nothing: a registry's one list of overrides or
   * of services is (endpoint lists wait for the overrides); a service's list of nothing (a name
   * subscribed once, a typo) costs no file unless it replaces one.
   */
  readonly snapshotWhenEmpty?: boolean;
}
