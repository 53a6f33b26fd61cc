import type { Endpoint } from '../endpoint/Endpoint';
import { endpointState } from '../endpoint/EndpointState';
import { sameEndpoint } from '../endpoint/sameEndpoint';
import type { KeyLayout, KeyValue } from '../keys/KeyLayout';
import type { OnceLog } from '../logging/OnceLog';
import { decodeUtf8 } from '../text/decodeUtf8';
import { escapeBytes } from '../text/escapeBytes';
import type { EndpointChanges } from './EndpointChanges';
import type { ChangeTracker } from './LiveList';
import { AddressClaims } from './AddressClaims';
import { ChangeLog } from './ChangeLog';
import { Departures, type Protection } from './Departures';
import { recordChanges } from './listChanges';
import type { KeyChange, PrefixState } from './PrefixUpdate';

/**
 * The endpoints of one service, sorted by address and with each address once, kept so as changes
 * arrive.
 *
 * Every entry was written by someone else: one that is not an endpoint (a key that is not UTF-8, an
 * address gsr could not have registered, a value etcd's naming layout cannot read) is skipped with one
 * log line and never merged with another. In gsr's layout a key ends in its address, so addresses are
 * unique; in etcd's naming layout two keys may hold the same one ({@link AddressClaims}).
 *
 * Unplanned departures: an instance that leaves on purpose says so first (its key says `draining`
 * before it is deleted: `unregister`, `close()`, `drain()`). A key that goes otherwise is remembered
 * ({@link Departures}) and, while the service is short of instances, listed as `'lost'`: the last
 * resort, never what etcd holds (a snapshot on disk leaves them out).
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
  /** When key ids are not addresses (etcd's naming layout): which key lists each address. */
  readonly #claims: AddressClaims | undefined;
  /** The value handed to subscribers, until the next change. */
  #snapshot: readonly Endpoint[] | undefined;
  /** Whether `#endpoints` is the snapshot itself (a small list): the next change copies it first. */
  #shared = false;
  /** For a large list, a copy made ahead (kept equal to `#endpoints`): the next snapshot. */
  #spare: Endpoint[] | undefined;
  /** The last snapshot handed out. */
  #handedOut: readonly Endpoint[] | undefined;
  /** What changed since, and since followers of changes last took them. */
  readonly #changes = new ChangeLog();
  /** Unplanned departures, when the list keeps them. */
  readonly #departures: Departures | undefined;
  /** Told the write time of each stamped put the watch brings (not of reads: those are not arrivals). */
  readonly #arrived: ((writtenAt: number) => void) | undefined;

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
    this.#departures =
      protection !== undefined && protection.threshold > 0 && protection.keepMs > 0
        ? new Departures(protection)
        : undefined;
    this.#prefixBytes = Buffer.byteLength(prefix);
    this.#layout = layout;
    this.#log = log;
    this.#claims = layout.idIsAddress ? undefined : new AddressClaims();
  }

  /** The service whose endpoints these are. */
  get service(): string {
    return this.#service;
  }

  /** How many endpoints the list holds, those kept as lost left out. */
  get size(): number {
    return this.#endpoints.length - this.#lostShown();
  }

  reset(entries: readonly KeyValue[], afterLive = true): boolean {
    this.#claims?.clear();
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
        this.#claims.claim(id, endpoint);
      }
    }
    if (this.#claims !== undefined) {
      for (const address of this.#claims.addresses()) {
        byAddress.set(address, this.#claims.winner(address) as Endpoint);
      }
    }
    // A range comes in byte order, which is `<` order unless an address has characters beyond the Basic
    // Multilingual Plane (or, in etcd's naming layout, the keys are not the addresses).
    const departures = this.#departures;
    if (departures !== undefined) {
      // Keys the list held that the read no longer finds left while nobody watched: judged as a delete.
      // The list is replaced whole below: nothing to unlist.
      for (const endpoint of afterLive ? this.#endpoints : []) {
        if (endpointState(endpoint) !== 'lost' && !byAddress.has(endpoint.address)) {
          departures.left(endpoint);
        }
      }
      if (!afterLive) {
        departures.clear(); // Departures from another store are none of this one's.
      }
      for (const address of byAddress.keys()) {
        departures.returned(address);
      }
      departures.expire();
      if (departures.protecting(byAddress.size)) {
        for (const [address, lost] of departures.lost()) {
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
      this.#changes.replaced(this.#endpoints, endpoints);
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
    return this.#departures?.nextExpiry();
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
    const delta = this.#changes.valueTaken(this.#listedAt);
    recordChanges(snapshot, previous, revision, previous === undefined ? undefined : delta);
    this.#handedOut = snapshot;
    return snapshot;
  }

  /** The endpoint listed at `address`, if any: O(log n). */
  endpointAt(address: string): Endpoint | undefined {
    const endpoint = this.#endpoints[this.#indexOf(address)];
    return endpoint?.address === address ? endpoint : undefined;
  }

  trackChanges(on: boolean): void {
    this.#changes.follow(on);
  }

  takeChanges(revision: bigint | undefined): EndpointChanges {
    const changes = this.#changes.take(this.#listedAt);
    return revision === undefined ? changes : { ...changes, revision };
  }

  everything(value: readonly Endpoint[], revision: bigint | undefined): EndpointChanges {
    this.#changes.clearFollowed();
    const changes = { added: value, removed: [], updated: [] };
    return revision === undefined ? changes : { ...changes, revision };
  }

  readonly #listedAt = (address: string): Endpoint | undefined => this.endpointAt(address);

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
    if (claims === undefined) {
      return this.#set(id, endpoint);
    }
    let changed = false;
    for (const address of claims.change(id, endpoint)) {
      changed = this.#set(address, claims.winner(address)) || changed;
    }
    return changed;
  }

  /** A key of etcd's now lists `endpoint` at `address`, or nothing: whether the list changed. */
  #set(address: string, endpoint: Endpoint | undefined): boolean {
    const departures = this.#departures;
    if (departures !== undefined) {
      if (endpoint === undefined) {
        const listed = this.endpointAt(address);
        if (listed !== undefined && endpointState(listed) !== 'lost') {
          this.#unlistShown(departures.left(listed));
        }
      } else {
        departures.returned(address);
      }
    }
    return this.#list(address, endpoint);
  }

  /** Unlists those of `departures` the list shows as lost: whether the list changed. */
  #unlistShown(departures: readonly (readonly [string, Endpoint])[]): boolean {
    let changed = false;
    for (const [address, lost] of departures) {
      if (this.endpointAt(address) === lost) {
        changed = this.#list(address, undefined) || changed;
      }
    }
    return changed;
  }

  /** How many endpoints the list shows as lost. */
  #lostShown(): number {
    return this.#departures?.shown((address) => this.endpointAt(address)) ?? 0;
  }

  /**
   * Lists the remembered departures as lost, or not, as the service's size now asks; drops those kept
   * long enough. Whether the list changed. O(departures × log n): never a pass over the list.
   */
  #protect(): boolean {
    const departures = this.#departures;
    if (departures === undefined) {
      return false;
    }
    let changed = this.#unlistShown(departures.expire());
    const protecting = departures.protecting(this.#endpoints.length - this.#lostShown());
    for (const [address, lost] of departures.lost()) {
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
    // What it listed before (a no-op change is sorted out when the changes are taken).
    this.#changes.note(address, present ? this.#endpoints[index] : undefined);
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
