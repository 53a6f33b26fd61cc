import type { Observable, Subscription } from 'rxjs';
import type { Logger } from 'winston';
import type { EtcdEntry } from '../etcd/EtcdPort';
import type { KeyRecord } from './KeyRecord';

/** What guarding keys needs of discovery: a service's list kept live, and keys observed in it. */
export interface WatchedKeys {
  asWritten$(service: string): Observable<unknown>;
  observe(
    service: string,
    key: string,
    observer: (entry: EtcdEntry | undefined, revision: bigint, replaced?: boolean) => void,
  ): (() => void) | undefined;
}

/** The keys of one service that a registry holds, and the subscription that keeps it watched. */
interface Guard {
  readonly records: Set<KeyRecord>;
  subscription: Subscription | undefined;
}

/**
 * Keeps the services a registry registers in watched (one shared list per service, the one
 * `endpoints$` uses) for as long as it holds a key there, and tells each key's record what etcd holds
 * at it (`record.seen`), through `judge`.
 * @internal
 */
export class KeyGuards {
  readonly #keys: WatchedKeys;
  readonly #logger: Logger;
  readonly #guards = new Map<string, Guard>();

  constructor(keys: WatchedKeys, logger: Logger) {
    this.#keys = keys;
    this.#logger = logger;
  }

  /** Keeps the record's service watched, and has `judge` called each time its key is seen. */
  guard(record: KeyRecord, judge: (record: KeyRecord) => void): void {
    const { service } = record.endpoint;
    let guard = this.#guards.get(service);
    if (guard === undefined) {
      const created: Guard = { records: new Set(), subscription: undefined };
      guard = created;
      this.#guards.set(service, created);
      created.subscription = this.#keys.asWritten$(service).subscribe({
        error: (error: unknown) => {
          created.subscription = undefined;
          this.#logger.warn(
            `cannot watch the keys this registry registered for "${service}": a key deleted or ` +
              'overwritten by someone else is not written again until the lease is replaced',
            { cause: error },
          );
        },
      });
    }
    guard.records.add(record);
    record.unobserve = this.#keys.observe(service, record.key, (entry, revision, replaced) => {
      if (replaced === true && record.written?.revision !== undefined) {
        // etcd's store was replaced (wiped, restored, another cluster): the revision of our write is
        // of another history. What this read finds is judged as if it came right after the write.
        record.written = { ...record.written, revision };
      }
      record.see(entry, revision);
      judge(record);
    });
  }

  /** The record is forgotten: its service is unwatched when it was the last there. */
  release(record: KeyRecord): void {
    record.unobserve?.();
    const { service } = record.endpoint;
    const guard = this.#guards.get(service);
    guard?.records.delete(record);
    if (guard !== undefined && guard.records.size === 0) {
      guard.subscription?.unsubscribe();
      this.#guards.delete(service);
    }
  }

  /** Unwatches everything. */
  close(): void {
    this.#guards.forEach((guard) => guard.subscription?.unsubscribe());
    this.#guards.clear();
  }
}
