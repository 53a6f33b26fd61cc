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
  | {
      readonly kind: 'reset';
      readonly entries: readonly KeyValue[];
      /** Whether what the state held before came from this etcd (not a snapshot, not another cluster). */
      readonly afterLive: boolean;
    }
  | { readonly kind: 'changes'; readonly changes: readonly KeyChange[] }
  /** Nothing came from etcd, but time passed: what the state keeps for a while may go. */
  | { readonly kind: 'time' };

/**
 * A view kept up to date by {@link PrefixUpdate}s: `reset` and `apply` say whether the view changed, and
 * `snapshot` is its current, immutable value.
 * @internal
 */
export interface PrefixState<T> {
  /**
   * @param afterLive Whether what the state held came from this etcd: only then is a key missing from
   *   `entries` one that left.
   */
  reset(entries: readonly KeyValue[], afterLive?: boolean): boolean;
  apply(changes: readonly KeyChange[]): boolean;
  /**
   * When the state changes by itself next, with nothing from etcd (something it keeps for a while
   * goes), as the clock's epoch ms; `undefined` when it will not.
   */
  nextExpiry?(): number | undefined;
  /** Lets go of what it kept for long enough: whether the state changed. */
  expire?(): boolean;
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
