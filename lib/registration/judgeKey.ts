import type { EtcdEntry } from '../etcd/EtcdPort';
import type { KeyRecord } from './KeyRecord';

/** etcd's lease id for a key bound to no lease. */
const NO_LEASE = '0';

/** What the registrar does about what etcd was seen to hold at a key. @internal */
export type KeyVerdict =
  | { readonly kind: 'nothing' }
  /** Another lease held it and let it go, with nothing of ours written: ours to write. */
  | { readonly kind: 'reclaim' }
  /** Another live lease holds it now: left to that lease. */
  | { readonly kind: 'foreign'; readonly lease: string }
  /** Deleted, overwritten, or back on an old lease of ours: ours to write again. */
  | { readonly kind: 'rewrite'; readonly what: string };

const NOTHING: KeyVerdict = Object.freeze({ kind: 'nothing' });

/**
 * Judges what etcd was seen to hold at `record`'s key (`record.seen`) after our confirmed write, and
 * updates the record to match: our write (nothing to do); nothing (deleted: written again); a value
 * without a lease, or another value on our lease (overwritten: written again, value and lease); or
 * another lease (someone else registered the address: left to them until their key goes). `ours` says
 * whether a lease is one of this registry's, old or current.
 * @internal
 */
export function judgeKey(record: KeyRecord, ours: (lease: string) => boolean): KeyVerdict {
  const { written, seen } = record;
  if (seen === undefined) {
    return NOTHING;
  }
  const { entry } = seen;
  if (
    record.foreign &&
    written?.revision === undefined &&
    seen.order > record.foreignAfter &&
    (entry === undefined || entry.lease === NO_LEASE)
  ) {
    // Left to another lease with nothing of ours written (a removal of ours ended meanwhile), and that
    // lease's key went: ours to write, or nobody would.
    record.foreign = false;
    return { kind: 'reclaim' };
  }
  if (
    written?.revision === undefined ||
    seen.order <= written.after || // Seen before the write was sent: it says nothing of it.
    seen.revision < written.revision
  ) {
    return NOTHING;
  }
  if (
    entry !== undefined &&
    entry.lease !== written.lease &&
    entry.lease !== NO_LEASE &&
    !ours(entry.lease)
  ) {
    const first = !record.foreign;
    record.foreign = true;
    record.foreignAfter = seen.order;
    return first ? { kind: 'foreign', lease: entry.lease } : NOTHING;
  }
  record.foreign = false;
  if (
    entry !== undefined &&
    entry.lease === written.lease &&
    sameValue(entry, written.sent ?? written.value)
  ) {
    return NOTHING;
  }
  // Deleted: nothing of ours is left. Overwritten (or back on an old lease of ours): ours no longer,
  // but ours to put back, or to delete (while bound to our lease or to none) when the registration ends.
  record.written = entry === undefined ? undefined : { ...written, revision: undefined };
  record.lost = true;
  return {
    kind: 'rewrite',
    what:
      entry === undefined
        ? 'deleted'
        : entry.lease === NO_LEASE
          ? 'overwritten without its lease'
          : `found on an old lease of ours (${entry.lease})`,
  };
}

function sameValue(entry: EtcdEntry, value: string): boolean {
  return entry.value.length === Buffer.byteLength(value) && entry.value.toString() === value;
}
