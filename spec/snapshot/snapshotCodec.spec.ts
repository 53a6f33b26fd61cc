import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  decodeSnapshot,
  encodeSnapshot,
  MAX_SNAPSHOT_ENTRIES,
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

  describe('skips a body that has a valid checksum but not a snapshot in it', () => {
    const forge = (body: string) =>
      `gsr-snapshot 1 sha256=${createHash('sha256').update(body).digest('hex')}\n${body}`;
    const base = {
      etcd: identity.etcd,
      keyPrefix: 'gsr/',
      list: 'l',
      savedAt: 1,
      revision: '1',
      entries: [],
    };
    const NOT_OURS = 'is of another etcd or key prefix';
    const NO_TIME = 'has no valid time or revision';
    const BAD_ENTRY = 'has an entry that is not a key and a value in base64';
    const NO_ENTRIES = `has no entries, or more than ${MAX_SNAPSHOT_ENTRIES}`;
    it.each<[string, unknown, string]>([
      ['an array', [1], 'is not a snapshot object'],
      ['null', null, 'is not a snapshot object'],
      ['etcd not an array', { ...base, etcd: 5 }, NOT_OURS],
      ['etcd of numbers', { ...base, etcd: [1, 2] }, NOT_OURS],
      ['etcd of strings and a number', { ...base, etcd: ['http://a:2379', 2] }, NOT_OURS],
      ['another key prefix', { ...base, keyPrefix: 'other/' }, NOT_OURS],
      ['a time as text', { ...base, savedAt: '1' }, NO_TIME],
      ['no time (JSON has no Infinity)', { ...base, savedAt: null }, NO_TIME],
      ['a revision as a number', { ...base, revision: 1 }, NO_TIME],
      ['a revision with letters after', { ...base, revision: '1x' }, NO_TIME],
      ['a revision with letters before', { ...base, revision: 'x1' }, NO_TIME],
      ['a revision of 20 digits', { ...base, revision: '12345678901234567890' }, NO_TIME],
      ['entries not an array', { ...base, entries: {} }, NO_ENTRIES],
      [
        'one entry too many',
        { ...base, entries: Array.from({ length: MAX_SNAPSHOT_ENTRIES + 1 }, () => ['', '']) },
        NO_ENTRIES,
      ],
      ['an entry that is text', { ...base, entries: ['AA=='] }, BAD_ENTRY],
      ['an entry of one', { ...base, entries: [['AA==']] }, BAD_ENTRY],
      ['an entry of three', { ...base, entries: [['AA==', 'AA==', 'AA==']] }, BAD_ENTRY],
      ['a key that is a number', { ...base, entries: [[1, 'AA==']] }, BAD_ENTRY],
      ['a value that is a number', { ...base, entries: [['AA==', 1]] }, BAD_ENTRY],
      ['a key not in base64', { ...base, entries: [['!', 'AA==']] }, BAD_ENTRY],
      ['a value not in base64', { ...base, entries: [['AA==', '!']] }, BAD_ENTRY],
    ])('%s', (_what, body, skip) => {
      expect(decodeSnapshot(forge(JSON.stringify(body)), identity, 'l')).toEqual({ skip });
    });

    it('reads the largest snapshot it allows, and the longest revision', () => {
      const entries = Array.from({ length: MAX_SNAPSHOT_ENTRIES }, () => ['', '']);
      const body = { ...base, revision: '1234567890123456789', entries };
      const decoded = decodeSnapshot(forge(JSON.stringify(body)), identity, 'l');
      expect('snapshot' in decoded && decoded.snapshot.entries.length).toBe(MAX_SNAPSHOT_ENTRIES);
      expect('snapshot' in decoded && decoded.snapshot.revision).toBe(1234567890123456789n);
    });

    it('says which of its checks failed: not a snapshot, or not whole', () => {
      expect(decodeSnapshot('gsr-snapshot 1 sha256=00', identity, 'l')).toEqual({
        skip: 'is not a gsr snapshot (or of another version)',
      });
      expect(decodeSnapshot(`gsr-snapshot 1 sha256=00\n{}`, identity, 'l')).toEqual({
        skip: 'does not match its checksum (corrupt or truncated)',
      });
    });
  });
});
