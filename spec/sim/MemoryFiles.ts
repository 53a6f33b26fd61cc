import type { FileRead, SnapshotFiles } from '../../lib/snapshot/SnapshotFiles';

/**
 * Snapshot files in memory, for the simulation: a write replaces a file whole (as the rename does), a
 * read sees the last whole write. Every call answers on a later microtask, as the disk would.
 */
export class MemoryFiles implements SnapshotFiles {
  readonly #files = new Map<string, string>();
  #writes = 0;

  /** How many files were written. */
  get writes(): number {
    return this.#writes;
  }

  checkDirectory(): Promise<{ readonly kind: 'usable' }> {
    return Promise.resolve({ kind: 'usable' });
  }

  read(path: string, maxBytes: number): Promise<FileRead> {
    const text = this.#files.get(path);
    return Promise.resolve(
      text === undefined
        ? { kind: 'none' }
        : text.length > maxBytes
          ? { kind: 'skipped', why: 'too large' }
          : { kind: 'text', text },
    );
  }

  write(_dir: string, path: string, text: string): Promise<void> {
    this.#files.set(path, text);
    this.#writes += 1;
    return Promise.resolve();
  }
}
