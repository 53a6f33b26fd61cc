/**
 * Whether a list is etcd's state now, or one from before, and since when, as
 * {@link Registry.freshness} tells it:
 *
 * - `live`: followed from etcd, which answers;
 * - `kept`: followed from etcd until it stopped answering at `since`: what etcd held then, kept so that
 *   calls go on (static stability); it may have changed since;
 * - `snapshot`: read from the snapshot on disk written at `since` (etcd has not answered this list
 *   yet): the last known list of a process that ran before.
 *
 * @example
 * ```ts
 * registry.endpoints$('api').subscribe((list) => {
 *   const freshness = registry.freshness(list);
 *   if (freshness.kind !== 'live') {
 *     console.warn(`api: ${list.length} endpoints from ${freshness.kind}, since ${freshness.since.toISOString()}`);
 *   }
 * });
 * ```
 */
export type Freshness =
  | {
      /** Followed from etcd, which answers. */
      readonly kind: 'live';
    }
  | {
      /** What etcd held when it stopped answering. */
      readonly kind: 'kept';
      /** When etcd stopped answering. */
      readonly since: Date;
    }
  | {
      /** Read from the snapshot on disk: etcd has not answered this list yet. */
      readonly kind: 'snapshot';
      /** When the snapshot was written. */
      readonly since: Date;
    };
