import type { Endpoint } from '../endpoint/Endpoint';
import { endpointState } from '../endpoint/EndpointState';
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
 * What a list does with a key that vanishes without its instance saying it was leaving (see
 * {@link EndpointList}).
 * @internal
 */
export interface Protection {
  /** Below this share of its instances (those left and those that vanished so), a service keeps them. */
  readonly threshold: number;
  /** How long one is kept. */
  readonly keepMs: number;
  /** The clock's now, epoch ms. */
  readonly now: () => number;
}

/** A key that vanished unplanned: what it listed, that as kept (`'lost'`), and when it went. */
interface Departure {
  readonly lost: Endpoint;
  readonly at: number;
}

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
 * Unplanned departures: an instance that leaves on purpose says so first (its key says `draining`
 * before it is deleted: `unregister`, `close()`, `drain()`). A key that goes otherwise (its lease
 * expired while the instance was cut off from etcd, someone deleted it) is remembered for
 * `protection.keepMs`; while the service's endpoints are fewer than `protection.threshold` of themselves
 * plus those remembered, the remembered ones are listed as `'lost'`: the last resort, never what etcd
 * holds (a snapshot on disk leaves them out). A key written again ends its memory at once.
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
  readonly #protection: Protection | undefined;
  /** Told the write time of each stamped put the watch brings (not of reads: those are not arrivals). */
  readonly #arrived: ((writtenAt: number) => void) | undefined;
  /** Keys that vanished unplanned within `protection.keepMs`, by address, listed or not. */
  readonly #departed = new Map<string, Departure>();

  constructor(
    service: string,
    prefix: string,
    layout: KeyLayout,
    log: OnceLog,
    protection?: Protection,
    arrived?: (writtenAt: number) => void,
  ) {
    this.#service = service;
    this.#arrived = arrived;
    this.#protection =
      protection !== undefined && protection.threshold > 0 && protection.keepMs > 0
        ? protection
        : undefined;
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

  /** How many endpoints the list holds, those kept as lost left out. */
  get size(): number {
    return this.#endpoints.length - this.#lostListed();
  }

  reset(entries: readonly KeyValue[], afterLive = true): boolean {
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
    if (this.#protection !== undefined) {
      // Keys the list held that the read no longer finds left while nobody watched: judged as a delete.
      for (const endpoint of afterLive ? this.#endpoints : []) {
        if (endpointState(endpoint) !== 'lost' && !byAddress.has(endpoint.address)) {
          this.#departing(endpoint, false); // The list is replaced whole below.
        }
      }
      if (!afterLive) {
        this.#departed.clear(); // Departures from another store are none of this one's.
      }
      for (const address of byAddress.keys()) {
        this.#departed.delete(address);
      }
      this.#expireDepartures(false); // The list is replaced whole below.
      if (this.#protecting(byAddress.size)) {
        for (const [address, { lost }] of this.#departed) {
          byAddress.set(address, lost);
        }
      }
    }
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
        const endpoint = change.type === 'put' ? this.#read(id, change, this.#arrived) : undefined;
        changed = this.#change(id, endpoint) || changed;
      }
    }
    return this.#protect() || changed;
  }

  nextExpiry(): number | undefined {
    let first: number | undefined;
    for (const { at } of this.#departed.values()) {
      first = first === undefined ? at : Math.min(first, at);
    }
    return first === undefined ? undefined : first + (this.#protection as Protection).keepMs;
  }

  expire(): boolean {
    return this.#protect();
  }

  entries(): readonly KeyValue[] {
    // Written back as gsr would register them: read again, they make the same list. Those kept as
    // lost are not etcd's: left out.
    return this.#endpoints
      .filter((endpoint) => endpointState(endpoint) !== 'lost')
      .map((endpoint) => ({
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

  /** A key of etcd's now lists `endpoint` at `address`, or nothing: whether the list changed. */
  #set(address: string, endpoint: Endpoint | undefined): boolean {
    if (this.#protection !== undefined) {
      if (endpoint === undefined) {
        const listed = this.endpointAt(address);
        if (listed !== undefined && endpointState(listed) !== 'lost') {
          this.#departing(listed);
        }
      } else {
        this.#departed.delete(address);
      }
    }
    return this.#list(address, endpoint);
  }

  /**
   * `endpoint` left etcd: remembered, unless it said it was leaving. A planned departure says the
   * service is being changed on purpose (a deploy, a scale-down, a scale to zero): what it lost before
   * is forgotten too, so that a service emptied on purpose is empty.
   */
  #departing(endpoint: Endpoint, unlist = true): void {
    if (endpointState(endpoint) === 'draining') {
      for (const [address, { lost }] of this.#departed) {
        if (unlist && this.endpointAt(address) === lost) {
          this.#list(address, undefined);
        }
      }
      this.#departed.clear();
      return;
    }
    const { now } = this.#protection as Protection;
    this.#departed.set(endpoint.address, {
      lost: Object.freeze({ ...endpoint, state: 'lost' as const }),
      at: now(),
    });
  }

  /**
   * Forgets the departures older than `protection.keepMs`, and when `unlist`, takes those listed off the
   * list (every endpoint listed as lost is a remembered departure): whether the list changed.
   */
  #expireDepartures(unlist: boolean): boolean {
    const { now, keepMs } = this.#protection as Protection;
    const time = now();
    let changed = false;
    for (const [address, { at, lost }] of this.#departed) {
      if (time - at >= keepMs) {
        this.#departed.delete(address);
        if (unlist && this.endpointAt(address) === lost) {
          changed = this.#list(address, undefined) || changed;
        }
      }
    }
    return changed;
  }

  /** Whether `live` endpoints are few enough, against those that vanished, to list the vanished. */
  #protecting(live: number): boolean {
    const departed = this.#departed.size;
    return departed > 0 && live < (this.#protection as Protection).threshold * (live + departed);
  }

  /** How many endpoints the list holds as lost. */
  #lostListed(): number {
    let listed = 0;
    for (const [address, { lost }] of this.#departed) {
      listed += this.endpointAt(address) === lost ? 1 : 0;
    }
    return listed;
  }

  /**
   * Lists the remembered departures as lost, or not, as the service's size now asks; drops those kept
   * long enough. Whether the list changed. O(departures × log n): never a pass over the list.
   */
  #protect(): boolean {
    if (this.#protection === undefined || this.#departed.size === 0) {
      return false;
    }
    let changed = this.#expireDepartures(true);
    const protecting = this.#protecting(this.#endpoints.length - this.#lostListed());
    for (const [address, { lost }] of this.#departed) {
      const listed = this.endpointAt(address);
      if (protecting && listed === undefined) {
        changed = this.#list(address, lost) || changed;
      } else if (!protecting && listed === lost) {
        changed = this.#list(address, undefined) || changed;
      }
    }
    return changed;
  }

  /** Lists `endpoint` at `address`, or nothing: whether the list changed. */
  #list(address: string, endpoint: Endpoint | undefined): boolean {
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

  /** The endpoint an entry lists, or `undefined` (logged when it is skipped); `arrived` told its stamp. */
  #read(id: string, entry: KeyValue, arrived?: (writtenAt: number) => void): Endpoint | undefined {
    const decoded = this.#layout.decodeEntry(this.#service, id, entry.value);
    if ('skip' in decoded) {
      this.#log.warn(`skipping malformed key "${escapeBytes(entry.key)}": ${decoded.skip}`);
      return undefined;
    }
    if (decoded.writtenAt !== undefined) {
      arrived?.(decoded.writtenAt);
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
