import { createHash } from 'node:crypto';
import { parseBoundedJson } from '../endpoint/parseBoundedJson';
import type { KeyValue } from '../keys/KeyLayout';

/** The first bytes of every snapshot file: what it is and its format's version. */
const MAGIC = 'gsr-snapshot 1 sha256=';
/** The largest snapshot file gsr writes or reads: a list of 100,000 endpoints fits. */
export const MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024;
/** The most entries one snapshot may hold. */
export const MAX_SNAPSHOT_ENTRIES = 200_000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Which etcd and which key prefix a snapshot's lists came from: another's lists are not ours. @internal */
export interface SnapshotIdentity {
  /** etcd's client URLs, as configured, in any order. */
  readonly etcd: readonly string[];
  /** The registry's key prefix. */
  readonly keyPrefix: string;
}

/** One list as it was: the entries of its prefix, when and at which revision. @internal */
export interface Snapshot {
  /** The watched prefix the entries are under (a service's, operators' overrides'). */
  readonly list: string;
  readonly entries: readonly KeyValue[];
  /** When it was written, in milliseconds since the epoch, by the writer's clock. */
  readonly savedAt: number;
  /** etcd's revision the list was at. */
  readonly revision: bigint;
}

const sorted = (etcd: readonly string[]): string[] => [...etcd].sort();
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * A snapshot as file text: a first line naming the format and the SHA-256 of the rest, then JSON with
 * the identity, the list's prefix, the time, the revision, and each entry's key and value in base64 (a
 * key is any bytes).
 * @internal
 */
export function encodeSnapshot(identity: SnapshotIdentity, snapshot: Snapshot): string {
  const body = JSON.stringify({
    etcd: sorted(identity.etcd),
    keyPrefix: identity.keyPrefix,
    list: snapshot.list,
    savedAt: snapshot.savedAt,
    revision: snapshot.revision.toString(),
    entries: snapshot.entries.map(({ key, value }) => [
      key.toString('base64'),
      value.toString('base64'),
    ]),
  });
  return `${MAGIC}${sha256(body)}\n${body}`;
}

/**
 * A snapshot file's text read back: the snapshot, or why it is skipped. The file was written by someone
 * else (or by a disk that lost half of it): it must carry the checksum of what follows, the same etcd,
 * key prefix and list, and entries that are pairs of base64 strings. What the entries say is then
 * decoded like anything read from etcd.
 * @internal
 */
export function decodeSnapshot(
  text: string,
  identity: SnapshotIdentity,
  list: string,
): { readonly snapshot: Snapshot } | { readonly skip: string } {
  const newline = text.indexOf('\n');
  if (!text.startsWith(MAGIC) || newline < 0) {
    return { skip: 'is not a gsr snapshot (or of another version)' };
  }
  const body = text.slice(newline + 1);
  if (text.slice(MAGIC.length, newline) !== sha256(body)) {
    return { skip: 'does not match its checksum (corrupt or truncated)' };
  }
  const parsed = parseBoundedJson(body, 3);
  if (
    'error' in parsed ||
    typeof parsed.value !== 'object' ||
    parsed.value === null ||
    Array.isArray(parsed.value)
  ) {
    return { skip: 'is not a snapshot object' };
  }
  const value = parsed.value as Record<string, unknown>;
  const { etcd, keyPrefix, savedAt, revision, entries } = value;
  if (
    !Array.isArray(etcd) ||
    !etcd.every((url) => typeof url === 'string') ||
    sorted(etcd).join(' ') !== sorted(identity.etcd).join(' ') ||
    keyPrefix !== identity.keyPrefix
  ) {
    return { skip: 'is of another etcd or key prefix' };
  }
  if (value.list !== list) {
    return { skip: 'is of another list' };
  }
  if (
    typeof savedAt !== 'number' ||
    !Number.isFinite(savedAt) ||
    typeof revision !== 'string' ||
    !/^\d{1,19}$/.test(revision)
  ) {
    return { skip: 'has no valid time or revision' };
  }
  if (!Array.isArray(entries) || entries.length > MAX_SNAPSHOT_ENTRIES) {
    return { skip: `has no entries, or more than ${MAX_SNAPSHOT_ENTRIES}` };
  }
  const kvs: KeyValue[] = [];
  for (const entry of entries as unknown[]) {
    if (
      !Array.isArray(entry) ||
      entry.length !== 2 ||
      typeof entry[0] !== 'string' ||
      typeof entry[1] !== 'string' ||
      !BASE64.test(entry[0]) ||
      !BASE64.test(entry[1])
    ) {
      return { skip: 'has an entry that is not a key and a value in base64' };
    }
    kvs.push({ key: Buffer.from(entry[0], 'base64'), value: Buffer.from(entry[1], 'base64') });
  }
  return { snapshot: { list, entries: kvs, savedAt, revision: BigInt(revision) } };
}
