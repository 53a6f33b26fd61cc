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
 * A change costs a binary search and one splice (no re-sort), and one frozen array per change is handed
 * to every subscriber: for a small list the list itself (the next change copies it), for a large one a
 * copy made ahead, right after the previous emission, so that a change does not wait for it.
 * @internal
 */
export class EndpointList implements PrefixState<readonly Endpoint[]> {
  readonly #service: string;
  readonly #layout: KeyLayout;
  readonly #log: OnceLog;
  /** The byte length of the service's prefix: every key of this list starts with it. */
  readonly #prefixBytes: number;
  /** The endpoints, sorted by id (the rest of each key after the prefix, in `<` order). */
  #endpoints: Endpoint[] = [];
  /** Each endpoint's id, when the layout's ids are not its addresses (etcd's naming layout). */
  #ids: string[] | undefined;
  /** The value handed to subscribers, until the next change. */
  #snapshot: readonly Endpoint[] | undefined;
  /** Whether `#endpoints` is the snapshot itself (a small list): the next change copies it first. */
  #shared = false;
  /** For a large list, a copy made ahead (kept equal to `#endpoints`): the next snapshot. */
  #spare: Endpoint[] | undefined;

  constructor(service: string, prefix: string, layout: KeyLayout, log: OnceLog) {
    this.#service = service;
    this.#prefixBytes = Buffer.byteLength(prefix);
    this.#layout = layout;
    this.#log = log;
    this.#ids = layout.idIsAddress ? undefined : [];
  }

  /** The service whose endpoints these are. */
  get service(): string {
    return this.#service;
  }

  /** How many endpoints the list holds. */
  get size(): number {
    return this.#endpoints.length;
  }

  /** Whether the key `<prefix><id>` is listed. */
  has(id: string): boolean {
    const index = this.#indexOf(id);
    return index < this.#endpoints.length && this.#idAt(index) === id;
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
      const sortedIds = order.map((i) => ids[i] as string);
      const sortedEndpoints = order.map((i) => endpoints[i] as Endpoint);
      ids.splice(0, ids.length, ...sortedIds);
      endpoints.splice(0, endpoints.length, ...sortedEndpoints);
    }
    const changed =
      ids.length !== this.#endpoints.length ||
      ids.some(
        (id, i) =>
          id !== this.#idAt(i) || !sameEndpoint(endpoints[i] as Endpoint, this.#endpoints[i]),
      );
    if (changed) {
      // Otherwise keep the objects subscribers already hold.
      this.#endpoints = endpoints;
      this.#ids = this.#ids === undefined ? undefined : ids;
      this.#snapshot = undefined;
      this.#shared = false;
      this.#spare = undefined;
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
    return changed;
  }

  snapshot(): readonly Endpoint[] {
    if (this.#snapshot !== undefined) {
      return this.#snapshot;
    }
    const endpoints = this.#endpoints;
    if (endpoints.length < SPARE_FROM) {
      // A small list is handed out itself, frozen; the next change copies it (cheap at this size).
      this.#shared = true;
      this.#snapshot = Object.freeze(endpoints);
      return this.#snapshot;
    }
    // Copying 100,000 entries takes ~0.6 ms (a large-object allocation), and a frozen array copies
    // slower still: a large list hands out a copy made ahead, and makes the next one once subscribers
    // have this value, off the path of the next change.
    this.#snapshot = Object.freeze(this.#spare ?? endpoints.slice());
    this.#spare = undefined;
    setImmediate(() => {
      if (this.#spare === undefined && !this.#shared && this.#endpoints.length >= SPARE_FROM) {
        const spare = this.#endpoints.slice();
        // A copy has exactly the room it needs: an endpoint added to it would copy it all again.
        // Growing it once here (and shrinking its length back) leaves room for what comes.
        spare.push(spare[0] as Endpoint);
        spare.length -= 1;
        this.#spare = spare;
      }
    });
    return this.#snapshot;
  }

  /** The list, writable, for a change: a copy of it when it was handed out itself. */
  #writable(): Endpoint[] {
    this.#snapshot = undefined;
    if (this.#shared) {
      this.#shared = false;
      this.#endpoints = this.#endpoints.slice();
    }
    return this.#endpoints;
  }

  #put(id: string, endpoint: Endpoint): boolean {
    const index = this.#indexOf(id);
    if (index >= this.#endpoints.length || this.#idAt(index) !== id) {
      this.#writable().splice(index, 0, endpoint);
      this.#spare?.splice(index, 0, endpoint);
      this.#ids?.splice(index, 0, id);
      return true;
    }
    // A re-registration rewrites the same value: not a change.
    if (sameEndpoint(endpoint, this.#endpoints[index])) {
      return false;
    }
    this.#writable()[index] = endpoint;
    if (this.#spare !== undefined) {
      this.#spare[index] = endpoint;
    }
    return true;
  }

  #remove(id: string): boolean {
    const index = this.#indexOf(id);
    if (index >= this.#endpoints.length || this.#idAt(index) !== id) {
      return false;
    }
    this.#writable().splice(index, 1);
    this.#spare?.splice(index, 1);
    this.#ids?.splice(index, 1);
    return true;
  }

  #idAt(index: number): string | undefined {
    return this.#ids === undefined ? this.#endpoints[index]?.address : this.#ids[index];
  }

  /** Where `id` is, or would be inserted. */
  #indexOf(id: string): number {
    let low = 0;
    let high = this.#endpoints.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#idAt(mid) as string) < id) {
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

/** From this many endpoints on, the copy a change needs is prepared ahead. */
const SPARE_FROM = 1000;

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
