import { EtcdFailure } from './EtcdFailure';
import type { PutAnswer, PutOp } from './EtcdPort';

/** A write of a flat transaction: a put, or a delete of one key. @internal */
export type FlatWrite = { readonly put: PutOp } | { readonly delete: string };

/** What one flat transaction did. @internal */
export interface FlatAnswer {
  readonly succeeded: boolean;
  readonly revision: bigint;
  /** How many keys its deletes removed (when it succeeded). */
  readonly deleted: number;
  /** When it failed: the lease each compared key was bound to (`'0'`: none, or absent). */
  readonly leases: ReadonlyMap<string, string>;
}

/**
 * One transaction with no nesting: if every key of `ifLease` is bound to its lease (an absent key to
 * `'0'`, as etcd compares it), make every write; else read each compared key's lease.
 * @internal
 */
export type FlatTxn = (
  ifLease: readonly { readonly key: string; readonly lease: string }[],
  writes: readonly FlatWrite[],
) => Promise<FlatAnswer>;

/** Rounds a guarded write tries while its keys keep changing, before it reports etcd unsettled. */
const ROUNDS = 4;

/**
 * Puts `puts`, each guarded one only while its key is bound to one of its `ifLease`, with flat
 * transactions: the first expects each key on its first lease; one that fails learns where each key
 * is and goes again with what is allowed (at most {@link ROUNDS}). Flat, because etcd 3.4 checks no
 * permission on what a nested transaction writes: a nested put by a user who may only read is applied.
 * @internal
 */
export async function guardedPutAll(flat: FlatTxn, puts: readonly PutOp[]): Promise<PutAnswer> {
  const expected = new Map<string, string>();
  const allowed = new Map<string, readonly string[]>();
  for (const { key, ifLease } of puts) {
    if (ifLease !== undefined) {
      expected.set(key, ifLease[0] ?? '0');
      allowed.set(key, ifLease);
    }
  }
  const held = new Map<string, string>();
  for (let round = 0; round < ROUNDS; round++) {
    const writes = puts.filter(({ key }) => !allowed.has(key) || expected.has(key));
    const answer = await flat(
      [...expected].map(([key, lease]) => ({ key, lease })),
      writes.map((put) => ({ put })),
    );
    if (answer.succeeded) {
      return { revision: answer.revision, held };
    }
    for (const [key, lease] of expected) {
      const now = answer.leases.get(key) ?? '0';
      if (now !== lease) {
        if (allowed.get(key)?.includes(now) === true) {
          expected.set(key, now);
        } else {
          expected.delete(key);
          held.set(key, now);
        }
      }
    }
    if (held.size === puts.length) {
      return { revision: answer.revision, held }; // Nothing left to write.
    }
  }
  throw new EtcdFailure(
    'unavailable',
    `the keys of a guarded put kept changing (${ROUNDS} rounds)`,
  );
}

/**
 * Deletes `key`, with `ifLease` only while it is bound to one of those leases, with flat transactions
 * as {@link guardedPutAll} puts.
 * @internal
 */
export async function guardedDelete(
  flat: FlatTxn,
  key: string,
  ifLease: readonly string[] | undefined,
): Promise<{ readonly deleted: boolean; readonly revision: bigint }> {
  let expected = ifLease?.[0];
  for (let round = 0; round < ROUNDS; round++) {
    const answer = await flat(expected === undefined ? [] : [{ key, lease: expected }], [
      { delete: key },
    ]);
    if (answer.succeeded) {
      return { deleted: answer.deleted > 0, revision: answer.revision };
    }
    const now = answer.leases.get(key) ?? '0';
    if (now === expected || ifLease?.includes(now) !== true) {
      return { deleted: false, revision: answer.revision };
    }
    expected = now;
  }
  throw new EtcdFailure(
    'unavailable',
    `${key} kept changing under a guarded delete (${ROUNDS} rounds)`,
  );
}
