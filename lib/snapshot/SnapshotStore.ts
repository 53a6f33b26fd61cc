import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { messageOf } from '../errors/messageOf';
import type { Cancel, Clock } from '../etcd/Clock';
import type { KeyValue } from '../keys/KeyLayout';
import type { WarnLog } from '../logging/OnceLog';
import { OnceLog } from '../logging/OnceLog';
import { escapeText } from '../text/escapeText';
import { nodeSnapshotFiles } from './nodeSnapshotFiles';
import type { SnapshotFiles } from './SnapshotFiles';
import {
  decodeSnapshot,
  encodeSnapshot,
  MAX_SNAPSHOT_BYTES,
  type Snapshot,
  type SnapshotIdentity,
} from './snapshotCodec';

/** How long after a list changed its snapshot is written: changes within it are written once. */
export const SNAPSHOT_DELAY_MS = 1000;

/** What a list gives to be written: read when the write happens, so that the latest state is written. */
interface SnapshotSource {
  entries(): readonly KeyValue[];
  readonly revision: bigint;
}

/** Errors that say the directory is not ours to write: it is then read, never written. */
const READ_ONLY = new Set(['EACCES', 'EPERM', 'EROFS']);

const hash = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);

/**
 * Last-known-good lists on disk: a directory of files, one per watched list (a service's endpoints,
 * operators' overrides), shared by every process that uses the same etcd and key prefix, so that a
 * process starting while etcd is down can call the services it knew (Nacos's failover directory,
 * Eureka's backup registry).
 *
 * A list is written within {@link SNAPSHOT_DELAY_MS} of a change and when the registry closes: to a
 * temporary file, synced, then renamed over the last one, so that a reader sees the old file or the new
 * one, never half of one. A directory gsr may not write (a read-only volume an operator filled) is read
 * and not written, said once.
 *
 * Every file was written by someone else: it is read only when it is a regular file (not a symlink),
 * owned by this user (or root), writable by no one else, in a directory no one else can write, no larger
 * than {@link MAX_SNAPSHOT_BYTES}, whole (its checksum), of this etcd, key prefix and list, and younger
 * than the maximum age. Anything else is skipped with one warning, and the list waits for etcd.
 * @internal
 */
export class SnapshotStore {
  readonly dir: string;
  readonly #identity: SnapshotIdentity;
  readonly #namespace: string;
  readonly #maxAgeMs: number;
  readonly #clock: Clock;
  readonly #log: OnceLog;
  readonly #pending = new Map<string, SnapshotSource>();
  #timer: Cancel | undefined;
  /** Writes, one after another. */
  #writing: Promise<void> = Promise.resolve();
  /** Whether the directory may be read: checked once. */
  #readable: Promise<boolean> | undefined;
  #writable = true;
  #closed = false;
  readonly #files: SnapshotFiles;

  constructor(
    dir: string,
    identity: SnapshotIdentity,
    options: {
      readonly maxAgeMs: number;
      readonly clock: Clock;
      readonly logger: WarnLog;
      /** The disk: the real one unless a simulation keeps its files in memory. */
      readonly files?: SnapshotFiles;
    },
  ) {
    this.#files = options.files ?? nodeSnapshotFiles;
    this.dir = dir;
    this.#identity = identity;
    this.#namespace = hash(`${[...identity.etcd].sort().join(' ')}\u0000${identity.keyPrefix}`);
    this.#maxAgeMs = options.maxAgeMs;
    this.#clock = options.clock;
    this.#log = new OnceLog(options.logger);
  }

  /** The file that holds `list`'s snapshot. */
  pathOf(list: string): string {
    return join(this.dir, `gsr-${this.#namespace}-${hash(list)}.snapshot`);
  }

  /** `list` as last written, or `undefined` (none, or skipped with a warning). Never rejects. */
  async load(list: string): Promise<Snapshot | undefined> {
    if (!(await this.#dirReadable())) {
      return undefined;
    }
    const path = this.pathOf(list);
    const read = await this.#read(path, list);
    if (read !== undefined && 'skip' in read) {
      this.#log.warn(`snapshot ${escapeText(path)} ${read.skip}: skipped`);
      return undefined;
    }
    return read?.snapshot;
  }

  /** The snapshot at `path`, or why it is skipped; `undefined` when there is none. */
  async #read(
    path: string,
    list: string,
  ): Promise<{ readonly snapshot: Snapshot } | { readonly skip: string } | undefined> {
    const read = await this.#files.read(path, MAX_SNAPSHOT_BYTES);
    if (read.kind !== 'text') {
      return read.kind === 'none' ? undefined : { skip: read.why };
    }
    const { text } = read;
    const decoded = decodeSnapshot(text, this.#identity, list);
    if ('skip' in decoded) {
      return decoded;
    }
    const { savedAt } = decoded.snapshot;
    const age = this.#clock.now() - savedAt;
    if (age > this.#maxAgeMs || age < -this.#maxAgeMs) {
      const when =
        age < 0
          ? 'in the future (a clock that jumped?)'
          : 'longer ago than GSR_SNAPSHOT_MAX_AGE_SECONDS';
      return { skip: `was written ${new Date(savedAt).toISOString()}, ${when}` };
    }
    return decoded;
  }

  /** Writes `list` within {@link SNAPSHOT_DELAY_MS}, as `source` says it then. */
  save(list: string, source: SnapshotSource): void {
    if (this.#closed || !this.#writable) {
      return;
    }
    this.#pending.set(list, source);
    // Never what keeps a process alive: close() writes what is pending.
    this.#timer ??= this.#clock.schedule(SNAPSHOT_DELAY_MS, () => void this.flush(), {
      keepsAlive: false,
    });
  }

  /** Writes every pending list now; resolves once they are on disk (or failed, said in a warning). */
  flush(): Promise<void> {
    this.#timer?.();
    this.#timer = undefined;
    this.#writing = this.#writing.then(() => this.#drain());
    return this.#writing;
  }

  /** Writes the pending lists one at a time, each as it is when its turn comes. */
  async #drain(): Promise<void> {
    for (const [list, source] of this.#pending) {
      this.#pending.delete(list);
      await this.#write(list, source);
    }
  }

  /** Writes what is pending, then writes nothing more. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  async #write(list: string, source: SnapshotSource): Promise<void> {
    if (!this.#writable) {
      return;
    }
    try {
      await this.write(list, source);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (READ_ONLY.has(code)) {
        this.#writable = false;
        this.#log.warn(
          `snapshots are read from ${escapeText(this.dir)}, not written: ${messageOf(error)}`,
        );
      } else {
        // A full disk, say: the next change tries again; said once per kind of failure.
        this.#log.warn(`cannot write snapshots to ${escapeText(this.dir)}: ${messageOf(error)}`);
      }
    }
  }

  /**
   * Writes `list` now, atomically: a temporary file in the directory (made, mode 0700, if missing),
   * synced, then renamed over the last one. Rejects with the file system's error, or when the snapshot
   * would exceed {@link MAX_SNAPSHOT_BYTES}.
   */
  async write(list: string, source: SnapshotSource): Promise<void> {
    const text = encodeSnapshot(this.#identity, {
      list,
      entries: source.entries(),
      savedAt: this.#clock.now(),
      revision: source.revision,
    });
    if (Buffer.byteLength(text) > MAX_SNAPSHOT_BYTES) {
      throw new Error(
        `the snapshot of ${escapeText(list)} would exceed ${MAX_SNAPSHOT_BYTES} bytes: not written`,
      );
    }
    await this.#files.write(this.dir, this.pathOf(list), text);
  }

  #dirReadable(): Promise<boolean> {
    const checked = (this.#readable ??= this.#files.checkDirectory(this.dir).then((check) => {
      if (check.kind === 'missing') {
        this.#readable = undefined; // None yet: the first write makes it, and the next load looks again.
        return false;
      }
      if (check.kind === 'refused') {
        this.#writable = false;
        this.#log.warn(`the snapshot directory ${escapeText(this.dir)} ${check.why}: not used`);
        return false;
      }
      return true;
    }));
    return checked;
  }
}
