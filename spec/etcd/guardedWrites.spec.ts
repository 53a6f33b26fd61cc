import fc from 'fast-check';
import type { PutOp } from '../../lib/etcd/EtcdPort';
import { type FlatTxn, guardedDelete, guardedPutAll } from '../../lib/etcd/guardedWrites';

/** An etcd of keys bound to leases, answering flat transactions; `meddle` runs before each. */
function store(initial: ReadonlyMap<string, string>, meddle: (keys: Map<string, string>) => void) {
  const keys = new Map(initial);
  let revision = 10n;
  let rounds = 0;
  const flat: FlatTxn = (ifLease, writes) => {
    rounds += 1;
    meddle(keys);
    const succeeded = ifLease.every(({ key, lease }) => (keys.get(key) ?? '0') === lease);
    let deleted = 0;
    if (succeeded && writes.length > 0) {
      revision += 1n;
      for (const write of writes) {
        if ('put' in write) {
          keys.set(write.put.key, write.put.lease);
        } else {
          deleted += keys.delete(write.delete) ? 1 : 0;
        }
      }
    }
    const leases = new Map(
      succeeded ? [] : ifLease.map(({ key }) => [key, keys.get(key) ?? '0'] as const),
    );
    return Promise.resolve({ succeeded, revision, deleted, leases });
  };
  return { keys, flat, rounds: () => rounds };
}

const KEYS = ['a', 'b', 'c', 'd'];
const LEASES = ['0', '7', '8', '9'];
const lease = fc.constantFrom(...LEASES);
/** What etcd holds: each key absent or bound to a lease ('0': none). */
const holding = fc
  .dictionary(fc.constantFrom(...KEYS), lease)
  .map((d) => new Map(Object.entries(d)));
const puts = fc
  .uniqueArray(fc.constantFrom(...KEYS), { minLength: 1 })
  .chain((keys) =>
    fc.tuple(
      ...keys.map((key) =>
        fc.record({
          key: fc.constant(key),
          value: fc.constant(''),
          lease: fc.constantFrom('7', '8'),
          ifLease: fc.option(fc.uniqueArray(lease, { minLength: 1 }), { nil: undefined }),
        }),
      ),
    ),
  )
  .map((list) =>
    list.map(({ ifLease, ...put }): PutOp => (ifLease === undefined ? put : { ...put, ifLease })),
  );

describe('guarded writes with flat transactions', () => {
  it('put a guarded key only while bound to a lease it allows, name the holder of the rest, and write the others', async () => {
    await fc.assert(
      fc.asyncProperty(holding, puts, async (before, batch) => {
        const { keys, flat, rounds } = store(before, () => undefined);
        const { held: left } = await guardedPutAll(flat, batch);
        for (const { key, lease: own, ifLease } of batch) {
          const was = before.get(key) ?? '0';
          if (ifLease === undefined || ifLease.includes(was)) {
            expect(keys.get(key)).toBe(own);
            expect(left.has(key)).toBe(false);
          } else {
            expect(keys.get(key) ?? '0').toBe(was);
            expect(left.get(key)).toBe(was);
          }
        }
        // One round, and one more for each key found elsewhere than its first lease allowed.
        expect(rounds()).toBeLessThanOrEqual(2);
      }),
    );
  });

  it('delete a key only while bound to a lease it allows', async () => {
    await fc.assert(
      fc.asyncProperty(
        holding,
        fc.constantFrom(...KEYS),
        fc.option(fc.uniqueArray(lease, { minLength: 1 }), { nil: undefined }),
        async (before, key, ifLease) => {
          const { keys, flat } = store(before, () => undefined);
          const { deleted } = await guardedDelete(flat, key, ifLease);
          const was = before.get(key);
          const allowed = was !== undefined && (ifLease === undefined || ifLease.includes(was));
          expect(deleted).toBe(allowed);
          expect(keys.has(key)).toBe(was !== undefined && !allowed);
        },
      ),
    );
  });

  it('never write a key while it is bound to a lease not allowed, however it changes between rounds', async () => {
    await fc.assert(
      fc.asyncProperty(
        holding,
        puts,
        fc.infiniteStream(fc.tuple(fc.constantFrom(...KEYS), lease)),
        async (before, batch, changes) => {
          const stream = changes[Symbol.iterator]();
          const { flat } = store(before, (now) => {
            // Someone else moves a key before each round.
            const [key, to] = stream.next().value as [string, string];
            now.set(key, to);
          });
          const forbidden = new Map<string, string>();
          const checked: FlatTxn = async (ifLease, writes) => {
            const answer = await flat(ifLease, writes);
            if (answer.succeeded) {
              for (const write of writes) {
                if ('put' in write && write.put.ifLease !== undefined) {
                  const compared = ifLease.find(({ key }) => key === write.put.key);
                  if (compared === undefined || !write.put.ifLease.includes(compared.lease)) {
                    forbidden.set(write.put.key, compared?.lease ?? 'unchecked');
                  }
                }
              }
            }
            return answer;
          };
          await guardedPutAll(checked, batch).catch(() => undefined); // Unsettled: fine.
          expect([...forbidden]).toEqual([]);
        },
      ),
    );
  });
});
