import type { EtcdChange, EtcdEntry } from '../etcd/EtcdPort';

/**
 * Told what etcd holds at one key each time the list learns it: the entry (or `undefined`: no such key)
 * and the revision that says so; `replaced` when etcd's store was replaced since the list last learnt
 * it (wiped, restored from a backup, another cluster), so that revisions from before say nothing of it.
 * @internal
 */
export type KeyObserver = (
  entry: EtcdEntry | undefined,
  revision: bigint,
  replaced?: boolean,
) => void;

/**
 * The keys of a watched prefix that someone observes (a registrar, its own keys), told what etcd holds
 * at each after every read and every change of it. Keys are compared byte for byte.
 * @internal
 */
export class KeyObservers {
  /** By the key's bytes, in latin1. */
  readonly #observers = new Map<string, KeyObserver>();

  /** Tells `observer` about `key` until the returned function is called. */
  observe(key: string, observer: KeyObserver): () => void {
    const bytes = Buffer.from(key).toString('latin1');
    this.#observers.set(bytes, observer);
    return () => {
      if (this.#observers.get(bytes) === observer) {
        this.#observers.delete(bytes);
      }
    };
  }

  /** The prefix was read in full at `revision`: every observed key is there or not. */
  read(entries: readonly EtcdEntry[], revision: bigint, replaced: boolean): void {
    if (this.#observers.size === 0) {
      return;
    }
    const unseen = new Map(this.#observers);
    for (const entry of entries) {
      const key = entry.key.toString('latin1');
      const observer = unseen.get(key);
      if (observer !== undefined) {
        unseen.delete(key);
        observer(entry, revision, replaced);
      }
    }
    unseen.forEach((observer) => observer(undefined, revision, replaced));
  }

  /** Keys changed: each observed one is told its new entry (`undefined`: deleted). */
  changed(changes: readonly EtcdChange[]): void {
    if (this.#observers.size === 0) {
      return;
    }
    for (const change of changes) {
      const observer = this.#observers.get(change.key.toString('latin1'));
      observer?.(change.type === 'put' ? change : undefined, change.modRevision);
    }
  }

  clear(): void {
    this.#observers.clear();
  }
}
