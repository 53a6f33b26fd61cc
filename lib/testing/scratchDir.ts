import { accessSync, constants, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';

/** What a memory-backed directory must have free: etcd preallocates 64 MiB of log per member. */
const ROOM_BYTES = 1024 ** 3;

/**
 * Where a throwaway etcd keeps its data: in memory (`/dev/shm`) when it is writable and has 1 GiB
 * free, else the system's temporary directory.
 *
 * etcd fsyncs its log on every write and every vote. On a disk shared with a busy CI run one fsync can
 * outlast the election timeout, and a cluster that lost its leader then goes many seconds without one:
 * a three-member failover that takes 3 s alone took 16 to 37 s beside three `dd conv=fsync` loops.
 *
 * @example
 * ```ts
 * const dir = mkdtempSync(join(scratchDir(), 'gsr-etcd-'));
 * ```
 */
export function scratchDir(memory = '/dev/shm'): string {
  try {
    accessSync(memory, constants.W_OK);
    const { bavail, bsize } = statfsSync(memory);
    if (bavail * bsize >= ROOM_BYTES) {
      return memory;
    }
  } catch {
    // No such directory (not Linux) or not ours to write: the disk it is.
  }
  return tmpdir();
}
