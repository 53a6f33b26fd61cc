import { randomBytes } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../errors/messageOf';
import type { SnapshotFiles } from './SnapshotFiles';

/** Whose a file or directory is: ours or root's, else a problem. */
function ownerProblem(uid: number): string | undefined {
  const me = process.getuid?.();
  return me === undefined || uid === me || uid === 0
    ? undefined
    : `is owned by another user (${uid})`;
}

function fileProblem(stat: Stats, maxBytes: number): string | undefined {
  if (!stat.isFile()) {
    return 'is not a regular file';
  }
  if ((stat.mode & 0o022) !== 0) {
    return 'can be written by other users';
  }
  if (stat.size > maxBytes) {
    return `is larger than ${maxBytes} bytes`;
  }
  return ownerProblem(stat.uid);
}

/** Snapshot files on the real disk, through `node:fs`. @internal */
export const nodeSnapshotFiles: SnapshotFiles = {
  async checkDirectory(dir) {
    // The directory may be a symlink (/var/cache on another volume): its target is what is checked.
    const stat = await fs.stat(dir).catch(() => undefined);
    if (stat === undefined) {
      return { kind: 'missing' };
    }
    const why = !stat.isDirectory()
      ? 'is not a directory'
      : (stat.mode & 0o022) !== 0
        ? 'can be written by other users'
        : ownerProblem(stat.uid);
    return why === undefined ? { kind: 'usable' } : { kind: 'refused', why };
  },

  async read(path, maxBytes) {
    try {
      // O_NOFOLLOW: a symlink is refused by the open itself, not by a check a swap could race;
      // O_NONBLOCK: a FIFO put there does not hold one of libuv's few threads for ever.
      const file = await fs.open(
        path,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
      try {
        const problem = fileProblem(await file.stat(), maxBytes);
        if (problem !== undefined) {
          return { kind: 'skipped', why: problem };
        }
        const bytes = await file.readFile();
        return bytes.length > maxBytes
          ? { kind: 'skipped', why: `is larger than ${maxBytes} bytes` }
          : { kind: 'text', text: bytes.toString('utf8') };
      } finally {
        await file.close();
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        return { kind: 'none' };
      }
      return {
        kind: 'skipped',
        why: code === 'ELOOP' ? 'is a symlink' : `cannot be read (${messageOf(error)})`,
      };
    }
  },

  async write(dir, path, text) {
    const temporary = join(dir, `.gsr-${randomBytes(6).toString('hex')}.tmp`);
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      const file = await fs.open(
        temporary,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o600,
      );
      try {
        await file.writeFile(text);
        await file.sync();
      } finally {
        await file.close();
      }
      await fs.rename(temporary, path);
    } catch (error) {
      await fs.rm(temporary, { force: true }).catch(() => undefined);
      throw error;
    }
  },
};
