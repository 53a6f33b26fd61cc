import type { Endpoint } from '../endpoint/Endpoint';
import { sameEndpoint } from '../endpoint/sameEndpoint';
import type { KeyLayout, KeyValue } from '../keys/KeyLayout';
import type { OnceLog } from '../logging/OnceLog';
import { decodeUtf8 } from '../text/decodeUtf8';
import { escapeBytes } from '../text/escapeBytes';
import type { EndpointChanges } from './EndpointChanges';
import type { ChangeTracker } from './LiveList';
import { recordChanges } from './listChanges';
import type { KeyChange, PrefixState } from './PrefixUpdate';

/**
 * The endpoints of one service, sorted by address and with each address once, kept so as changes
 * arrive.
 *
 * Every entry was written by someone else: one that is not an endpoint (a key that is not UTF-8, an
 * address gsr could not have registered, a value etcd's naming layout cannot read) is skipped with one
 * log line and never merged with another. In gsr's layout a key ends in its address, so addresses are
 * unique. In etcd's naming layout the address is in the value, and two keys may hold the same one: the
 * address is listed once, as the key named after it holds it (the one gsr and etcd's endpoints manager
 * write), else as the lowest key (in `<` order) holds it; when that key goes, the next one stands in.
 *
 * A change costs a binary search and one splice (no re-sort), and one frozen array per change is handed
 * to every subscriber: for a small list the list itself (the next change copies it), for a large one a
 * copy made ahead, right after the previous emission, so that a change does not wait for it.
 * @internal
 */
export class EndpointList implements PrefixState<readonly Endpoint[]>, ChangeTracker {
  readonly #service: string;
  readonly #layout: KeyLayout;
  readonly #log: OnceLog;
  /** The byte length of the service's prefix: every key of this list starts with it. */
  readonly #prefixBytes: number;
  /** The endpoints, sorted by address (in `<` order), each address once. */
  #endpoints: Endpoint[] = [];
  /**
   * When key ids are not addresses (etcd's naming layout): each listed address's keys, by id, and each
   * listed id's address.
   */
  readonly #claims: Map<string, Map<string, Endpoint>> | undefined;
  readonly #addressOf: Map<string, string> | undefined;
  /** The value handed to subscribers, until the next change. */
  #snapshot: readonly Endpoint[] | undefined;
  /** Whether `#endpoints` is the snapshot itself (a small list): the next change copies it first. */
  #shared = false;
  /** For a large list, a copy made ahead (kept equal to `#endpoints`): the next snapshot. */
  #spare: Endpoint[] | undefined;
  /** The last snapshot handed out, and each address changed since, with what it listed then. */
  #handedOut: readonly Endpoint[] | undefined;
  readonly #before = new Map<string, Endpoint | undefined>();
  /** Whether `#before` says all that changed (not after a reset). */
  #tracked = true;
  /** While someone follows the changes: each address changed since they were last taken, as it was. */
  #changeLog: Map<string, Endpoint | undefined> | undefined;

  constructor(service: string, prefix: string, layout: KeyLayout, log: OnceLog) {
    this.#service = service;
    this.#prefixBytes = Buffer.byteLength(prefix);
    this.#layout = layout;
    this.#log = log;
    this.#claims = layout.idIsAddress ? undefined : new Map();
    this.#addressOf = layout.idIsAddress ? undefined : new Map();
  }

  /** The service whose endpoints these are. */
  get service(): string {
    return this.#service;
  }

  /** How many endpoints the list holds. */
  get size(): number {
    return this.#endpoints.length;
  }

  reset(entries: readonly KeyValue[]): boolean {
    this.#claims?.clear();
    this.#addressOf?.clear();
    const byAddress = new Map<string, Endpoint>();
    for (const entry of entries) {
      const id = this.#idOf(entry.key, true);
      const endpoint = id === undefined ? undefined : this.#read(id, entry);
      if (id === undefined || endpoint === undefined) {
        continue;
      }
      if (this.#claims === undefined) {
        byAddress.set(id, endpoint);
      } else {
        this.#claim(id, endpoint);
      }
    }
    if (this.#claims !== undefined) {
      for (const address of this.#claims.keys()) {
        byAddress.set(address, this.#winner(address) as Endpoint);
      }
    }
    // A range comes in byte order, which is `<` order unless an address has characters beyond the Basic
    // Multilingual Plane (or, in etcd's naming layout, the keys are not the addresses).
    const endpoints = [...byAddress.values()];
    if (!isSorted(endpoints)) {
      endpoints.sort((a, b) => compare(a.address, b.address));
    }
    const changed =
      endpoints.length !== this.#endpoints.length ||
      endpoints.some((endpoint, i) => !sameEndpoint(endpoint, this.#endpoints[i]));
    if (changed) {
      // Otherwise keep the objects subscribers already hold.
      this.#tracked = false;
      this.#before.clear();
      if (this.#changeLog !== undefined) {
        this.#logAll(this.#endpoints, endpoints);
      }
      this.#endpoints = endpoints;
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
        changed = this.#change(id, endpoint) || changed;
      }
    }
    return changed;
  }

  entries(): readonly KeyValue[] {
    // Written back as gsr would register them: read again, they make the same list.
    return this.#endpoints.map((endpoint) => ({
      key: Buffer.from(this.#layout.endpointKey(endpoint)),
      value: Buffer.from(this.#layout.encodeValue(endpoint)),
    }));
  }

  snapshot(revision?: bigint): readonly Endpoint[] {
    if (this.#snapshot !== undefined) {
      return this.#snapshot;
    }
    const previous = this.#handedOut;
    const snapshot = this.#take();
    // What changed, for `changes()` and balancers: O(changes) while tracked, else one comparison.
    recordChanges(
      snapshot,
      previous,
      revision,
      this.#tracked && previous !== undefined ? this.#delta() : undefined,
    );
    this.#before.clear();
    this.#tracked = true;
    this.#handedOut = snapshot;
    return snapshot;
  }

  /** The endpoint listed at `address`, if any: O(log n). */
  endpointAt(address: string): Endpoint | undefined {
    const endpoint = this.#endpoints[this.#indexOf(address)];
    return endpoint?.address === address ? endpoint : undefined;
  }

  trackChanges(on: boolean): void {
    this.#changeLog = on ? (this.#changeLog ?? new Map()) : undefined;
  }

  takeChanges(revision: bigint | undefined): EndpointChanges {
    const log = this.#changeLog ?? new Map<string, Endpoint | undefined>();
    const changes = this.#delta(log);
    log.clear();
    return revision === undefined ? changes : { ...changes, revision };
  }

  everything(value: readonly Endpoint[], revision: bigint | undefined): EndpointChanges {
    this.#changeLog?.clear();
    const changes = { added: value, removed: [], updated: [] };
    return revision === undefined ? changes : { ...changes, revision };
  }

  /** Logs every address whose endpoint differs between two sorted lists (a reset, while tracked). */
  #logAll(before: readonly Endpoint[], after: readonly Endpoint[]): void {
    const log = this.#changeLog as Map<string, Endpoint | undefined>;
    const now = new Map(after.map((endpoint) => [endpoint.address, endpoint]));
    for (const endpoint of before) {
      const next = now.get(endpoint.address);
      if ((next === undefined || !sameEndpoint(next, endpoint)) && !log.has(endpoint.address)) {
        log.set(endpoint.address, endpoint);
      }
      now.delete(endpoint.address);
    }
    for (const address of now.keys()) {
      if (!log.has(address)) {
        log.set(address, undefined);
      }
    }
  }

  /** What changed, from each changed address's former endpoint: as the list holds them now. */
  #delta(before: ReadonlyMap<string, Endpoint | undefined> = this.#before): {
    added: Endpoint[];
    removed: Endpoint[];
    updated: Endpoint[];
  } {
    const added: Endpoint[] = [];
    const removed: Endpoint[] = [];
    const updated: Endpoint[] = [];
    for (const [address, old] of before) {
      const index = this.#indexOf(address);
      const now = this.#endpoints[index];
      const listed = now?.address === address ? now : undefined;
      if (old === undefined && listed !== undefined) {
        added.push(listed);
      } else if (old !== undefined && listed === undefined) {
        removed.push(old);
      } else if (old !== undefined && listed !== undefined && !sameEndpoint(listed, old)) {
        updated.push(listed);
      }
    }
    return { added, removed, updated };
  }

  /** A new frozen value of the list. */
  #take(): readonly Endpoint[] {
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

  /** The key `id` now lists `endpoint`, or nothing: whether the list changed. */
  #change(id: string, endpoint: Endpoint | undefined): boolean {
    const claims = this.#claims;
    const addressOf = this.#addressOf;
    if (claims === undefined || addressOf === undefined) {
      return this.#set(id, endpoint);
    }
    const before = addressOf.get(id);
    let changed = false;
    if (before !== undefined && before !== endpoint?.address) {
      claims.get(before)?.delete(id);
      addressOf.delete(id);
      changed = this.#set(before, this.#winner(before));
    }
    if (endpoint !== undefined) {
      this.#claim(id, endpoint);
      changed = this.#set(endpoint.address, this.#winner(endpoint.address)) || changed;
    }
    return changed;
  }

  /** Records that key `id` lists `endpoint` (etcd's naming layout). */
  #claim(id: string, endpoint: Endpoint): void {
    const claims = this.#claims as Map<string, Map<string, Endpoint>>;
    let ids = claims.get(endpoint.address);
    if (ids === undefined) {
      ids = new Map();
      claims.set(endpoint.address, ids);
    }
    ids.set(id, endpoint);
    this.#addressOf?.set(id, endpoint.address);
  }

  /** Which of the keys listing `address` it is listed as (etcd's naming layout); forgets none left. */
  #winner(address: string): Endpoint | undefined {
    const claims = this.#claims as Map<string, Map<string, Endpoint>>;
    const ids = claims.get(address);
    if (ids === undefined || ids.size === 0) {
      claims.delete(address);
      return undefined;
    }
    const named = ids.get(address);
    if (named !== undefined) {
      return named;
    }
    let lowest: string | undefined;
    for (const id of ids.keys()) {
      if (lowest === undefined || id < lowest) {
        lowest = id;
      }
    }
    return ids.get(lowest as string);
  }

  /** Lists `endpoint` at `address`, or nothing: whether the list changed. */
  #set(address: string, endpoint: Endpoint | undefined): boolean {
    const index = this.#indexOf(address);
    const present = index < this.#endpoints.length && this.#endpoints[index]?.address === address;
    if (this.#tracked && !this.#before.has(address)) {
      // What it listed at the last snapshot (a no-op change is sorted out then).
      this.#before.set(address, present ? this.#endpoints[index] : undefined);
    }
    if (this.#changeLog !== undefined && !this.#changeLog.has(address)) {
      this.#changeLog.set(address, present ? this.#endpoints[index] : undefined);
    }
    if (endpoint === undefined) {
      if (!present) {
        return false;
      }
      this.#writable().splice(index, 1);
      this.#spare?.splice(index, 1);
      return true;
    }
    if (!present) {
      this.#writable().splice(index, 0, endpoint);
      this.#spare?.splice(index, 0, endpoint);
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

  /** The list, writable, for a change: a copy of it when it was handed out itself. */
  #writable(): Endpoint[] {
    this.#snapshot = undefined;
    if (this.#shared) {
      this.#shared = false;
      this.#endpoints = this.#endpoints.slice();
    }
    return this.#endpoints;
  }

  /** Where `address` is, or would be inserted. */
  #indexOf(address: string): number {
    let low = 0;
    let high = this.#endpoints.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#endpoints[mid] as Endpoint).address < address) {
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

function isSorted(endpoints: readonly Endpoint[]): boolean {
  for (let i = 1; i < endpoints.length; i++) {
    if ((endpoints[i - 1] as Endpoint).address > (endpoints[i] as Endpoint).address) {
      return false;
    }
  }
  return true;
}
