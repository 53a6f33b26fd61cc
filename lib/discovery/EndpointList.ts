import { isDeepStrictEqual } from 'node:util';
import type { Endpoint } from '../endpoint/Endpoint';
import type { KeyLayout, KeyValue } from '../keys/KeyLayout';
import type { OnceLog } from '../logging/OnceLog';
import { decodeUtf8 } from '../text/decodeUtf8';
import { escapeBytes } from '../text/escapeBytes';
import type { KeyChange, PrefixState } from './PrefixUpdate';

/**
 * The endpoints of one service, kept sorted by key as changes arrive (in gsr's layout the key ends in
 * the address, so that is address order).
 *
 * Every entry was written by someone else: one that is not an endpoint (a key that is not UTF-8, an
 * address gsr could not have registered, a value etcd's naming layout cannot read) is skipped with one
 * log line and never merged with another; distinct keys stay distinct endpoints.
 *
 * A change costs a binary search and one splice (no re-sort), and the frozen array handed to
 * subscribers is built at most once per change, however many subscribers read it.
 * @internal
 */
export class EndpointList implements PrefixState<readonly Endpoint[]> {
  readonly #service: string;
  readonly #layout: KeyLayout;
  readonly #log: OnceLog;
  /** The byte length of the service's prefix: every key of this list starts with it. */
  readonly #prefixBytes: number;
  /** The rest of each key after the prefix, sorted (UTF-16 code unit order, as `<` compares). */
  #ids: string[] = [];
  /** The endpoint of each id, in the same order. */
  #endpoints: Endpoint[] = [];
  #snapshot: readonly Endpoint[] | undefined;

  constructor(service: string, prefix: string, layout: KeyLayout, log: OnceLog) {
    this.#service = service;
    this.#prefixBytes = Buffer.byteLength(prefix);
    this.#layout = layout;
    this.#log = log;
  }

  /** How many endpoints the list holds. */
  get size(): number {
    return this.#ids.length;
  }

  /** Whether the key `<prefix><id>` is listed. */
  has(id: string): boolean {
    return this.#ids[this.#indexOf(id)] === id;
  }

  reset(entries: readonly KeyValue[]): boolean {
    const ids: string[] = [];
    const endpoints: Endpoint[] = [];
    for (const entry of entries) {
      const id = this.#idOf(entry.key, true);
      const endpoint = id === undefined ? undefined : this.#read(id, entry);
      if (id !== undefined && endpoint !== undefined) {
        ids.push(id);
        endpoints.push(endpoint);
      }
    }
    // A range comes in byte order, which is `<` order unless a key has characters beyond the Basic
    // Multilingual Plane: one pass says whether sorting is needed at all.
    if (!isSorted(ids)) {
      const order = ids
        .map((_, i) => i)
        .sort((a, b) => compare(ids[a] as string, ids[b] as string));
      ids.splice(0, ids.length, ...order.map((i) => ids[i] as string));
      endpoints.splice(0, endpoints.length, ...order.map((i) => endpoints[i] as Endpoint));
    }
    const changed =
      ids.length !== this.#ids.length ||
      ids.some(
        (id, i) =>
          id !== this.#ids[i] || !sameEndpoint(endpoints[i] as Endpoint, this.#endpoints[i]),
      );
    if (changed) {
      // Otherwise keep the objects subscribers already hold.
      this.#ids = ids;
      this.#endpoints = endpoints;
      this.#snapshot = undefined;
    }
    return changed;
  }

  apply(changes: readonly KeyChange[]): boolean {
    let changed = false;
    for (const change of changes) {
      const id = this.#idOf(change.key, change.type === 'put');
      if (id !== undefined) {
        const endpoint = change.type === 'put' ? this.#read(id, change) : undefined;
        changed = (endpoint === undefined ? this.#remove(id) : this.#put(id, endpoint)) || changed;
      }
    }
    if (changed) {
      this.#snapshot = undefined;
    }
    return changed;
  }

  snapshot(): readonly Endpoint[] {
    this.#snapshot ??= Object.freeze(this.#endpoints.slice());
    return this.#snapshot;
  }

  #put(id: string, endpoint: Endpoint): boolean {
    const index = this.#indexOf(id);
    if (this.#ids[index] !== id) {
      this.#ids.splice(index, 0, id);
      this.#endpoints.splice(index, 0, endpoint);
      return true;
    }
    // A re-registration rewrites the same value: not a change.
    if (sameEndpoint(endpoint, this.#endpoints[index])) {
      return false;
    }
    this.#endpoints[index] = endpoint;
    return true;
  }

  #remove(id: string): boolean {
    const index = this.#indexOf(id);
    if (this.#ids[index] !== id) {
      return false;
    }
    this.#ids.splice(index, 1);
    this.#endpoints.splice(index, 1);
    return true;
  }

  /** Where `id` is, or would be inserted. */
  #indexOf(id: string): number {
    const ids = this.#ids;
    let low = 0;
    let high = ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((ids[mid] as string) < id) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  }

  /** The rest of `key` after the prefix, or `undefined` (logged when `report`) if not UTF-8. */
  #idOf(key: Buffer, report: boolean): string | undefined {
    const id = decodeUtf8(key.subarray(this.#prefixBytes));
    if (id === undefined && report) {
      this.#log.warn(`skipping malformed key "${escapeBytes(key)}": it is not valid UTF-8`);
    }
    return id;
  }

  /** The endpoint an entry lists, or `undefined` (logged when it is skipped). */
  #read(id: string, entry: KeyValue): Endpoint | undefined {
    const decoded = this.#layout.decodeEntry(this.#service, id, entry.value);
    if ('skip' in decoded) {
      this.#log.warn(`skipping malformed key "${escapeBytes(entry.key)}": ${decoded.skip}`);
      return undefined;
    }
    if ('unlisted' in decoded) {
      return undefined;
    }
    if (decoded.warning !== undefined) {
      this.#log.warn(`ignoring the metadata of ${escapeBytes(entry.key)}: ${decoded.warning}`);
    }
    return decoded.endpoint;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isSorted(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++) {
    if ((ids[i - 1] as string) > (ids[i] as string)) {
      return false;
    }
  }
  return true;
}

function sameEndpoint(a: Endpoint, b: Endpoint | undefined): boolean {
  return a.address === b?.address && isDeepStrictEqual(a.metadata, b.metadata);
}
