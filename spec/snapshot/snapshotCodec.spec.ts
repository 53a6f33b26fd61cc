import fc from 'fast-check';
import {
  decodeSnapshot,
  encodeSnapshot,
  type Snapshot,
  type SnapshotIdentity,
} from '../../lib/snapshot/snapshotCodec';

const identity: SnapshotIdentity = { etcd: ['http://b:2379', 'http://a:2379'], keyPrefix: 'gsr/' };
const bytes = fc.uint8Array({ maxLength: 40 }).map((array) => Buffer.from(array));
const snapshots = fc.record({
  list: fc.string(),
  entries: fc.array(fc.record({ key: bytes, value: bytes }), { maxLength: 20 }),
  savedAt: fc.integer({ min: 0, max: 2 ** 45 }),
  revision: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
});

describe('snapshotCodec', () => {
  it('reads back what it wrote: any keys and values (bytes), any list, time and revision', () => {
    fc.assert(
      fc.property(snapshots, (snapshot: Snapshot) => {
        const decoded = decodeSnapshot(encodeSnapshot(identity, snapshot), identity, snapshot.list);
        expect(decoded).toEqual({ snapshot });
      }),
    );
  });

  it('names etcd by its URLs in any order', () => {
    const snapshot: Snapshot = { list: 'gsr/services/web/', entries: [], savedAt: 1, revision: 7n };
    const text = encodeSnapshot(identity, snapshot);
    const reordered = { ...identity, etcd: ['http://a:2379', 'http://b:2379'] };
    expect(decodeSnapshot(text, reordered, snapshot.list)).toEqual({ snapshot });
  });

  it("skips another etcd's, another prefix's and another list's snapshot", () => {
    const snapshot: Snapshot = { list: 'gsr/services/web/', entries: [], savedAt: 1, revision: 7n };
    const text = encodeSnapshot(identity, snapshot);
    expect(decodeSnapshot(text, { ...identity, etcd: ['http://a:2379'] }, snapshot.list)).toEqual({
      skip: 'is of another etcd or key prefix',
    });
    expect(decodeSnapshot(text, { ...identity, keyPrefix: 'other/' }, snapshot.list)).toEqual({
      skip: 'is of another etcd or key prefix',
    });
    expect(decodeSnapshot(text, identity, 'gsr/services/api/')).toEqual({
      skip: 'is of another list',
    });
  });

  it('skips a file cut anywhere, or with any one byte changed (its checksum)', () => {
    fc.assert(
      fc.property(snapshots, fc.nat(), fc.integer({ min: 1, max: 255 }), (snapshot, at, xor) => {
        const text = encodeSnapshot(identity, snapshot);
        const cut = text.slice(0, at % text.length);
        expect(decodeSnapshot(cut, identity, snapshot.list)).toHaveProperty('skip');
        const changed = Buffer.from(text, 'latin1');
        const index = at % changed.length;
        changed[index] = (changed[index] ?? 0) ^ xor;
        expect(decodeSnapshot(changed.toString('latin1'), identity, snapshot.list)).toHaveProperty(
          'skip',
        );
      }),
    );
  });

  it('never throws on any text, and says why it skips', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const decoded = decodeSnapshot(text, identity, 'l');
        expect('skip' in decoded ? decoded.skip : 'read').toEqual(expect.any(String));
      }),
    );
    const deep = '['.repeat(100_000);
    expect(decodeSnapshot(deep, identity, 'l')).toHaveProperty('skip');
  });

  it('skips a body that has a valid checksum but not a snapshot in it', () => {
    const { createHash } = jest.requireActual<typeof import('node:crypto')>('node:crypto');
    const forge = (body: string) =>
      `gsr-snapshot 1 sha256=${createHash('sha256').update(body).digest('hex')}\n${body}`;
    const base = { etcd: identity.etcd, keyPrefix: 'gsr/', list: 'l', savedAt: 1, revision: '1' };
    expect(decodeSnapshot(forge('[1'), identity, 'l')).toEqual({
      skip: 'is not a snapshot object',
    });
    expect(decodeSnapshot(forge(JSON.stringify({ ...base, revision: -1 })), identity, 'l')).toEqual(
      {
        skip: 'has no valid time or revision',
      },
    );
    expect(
      decodeSnapshot(forge(JSON.stringify({ ...base, entries: [['!', 'AA==']] })), identity, 'l'),
    ).toEqual({ skip: 'has an entry that is not a key and a value in base64' });
    expect(decodeSnapshot(forge(JSON.stringify({ ...base, entries: {} })), identity, 'l')).toEqual({
      skip: 'has no entries, or more than 200000',
    });
  });
});
