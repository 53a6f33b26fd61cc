/** What a look at the snapshot directory found. @internal */
type DirectoryCheck =
  | { readonly kind: 'usable' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'refused'; readonly why: string };

/** What reading one snapshot file found. @internal */
export type FileRead =
  | { readonly kind: 'none' }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'skipped'; readonly why: string };

/**
 * The disk as {@link SnapshotStore} sees it: the one port to the file system, so that the node adapter
 * holds every check of who may have written a file, and a simulation keeps its files in memory.
 * @internal
 */
export interface SnapshotFiles {
  /** Whether `dir` may be read (and written): a directory, writable by no other user, ours or root's. */
  checkDirectory(dir: string): Promise<DirectoryCheck>;
  /**
   * The text of the file at `path`, when it is a regular file (not a symlink, not a FIFO), ours or
   * root's, writable by no other user and no larger than `maxBytes`; never rejects.
   */
  read(path: string, maxBytes: number): Promise<FileRead>;
  /**
   * Writes `text` to `path` atomically: a temporary file in `dir` (made, mode 0700, if missing),
   * synced, then renamed over the last one. Rejects with the file system's error (its `code`).
   */
  write(dir: string, path: string, text: string): Promise<void>;
}
