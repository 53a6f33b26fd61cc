import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'winston';
import type { Endpoint } from '../endpoint/Endpoint';
import { decodeMetadata } from '../endpoint/metadataCodec';
import type { KeyLayout } from '../keys/KeyLayout';
import type { KeyChange, KeyValue, PrefixState } from './PrefixUpdate';

/**
 * The endpoints of one service, kept sorted by address as changes arrive.
 *
 * A change costs a binary search and one splice (no re-sort), and the frozen array handed to
 * subscribers is built at most once per change, however many subscribers read it.
 * @internal
 */
export class EndpointList implements PrefixState<readonly Endpoint[]> {
  readonly #service: string;
  /** `<prefix>services/<service>/`: every key of this list starts with it. */
  readonly #prefix: string;
  readonly #logger: Logger;
  /** Sorted by address (UTF-16 code unit order, like `Array.prototype.sort`). */
  #endpoints: Endpoint[] = [];
  #snapshot: readonly Endpoint[] | undefined;

  constructor(service: string, layout: KeyLayout, logger: Logger) {
    this.#service = service;
    this.#prefix = layout.servicePrefix(service);
    this.#logger = logger;
  }

  get size(): number {
    return this.#endpoints.length;
  }

  reset(entries: readonly KeyValue[]): boolean {
    const before = this.#endpoints;
    this.#endpoints = [];
    for (const entry of entries) {
      const endpoint = this.#read(entry);
      if (endpoint !== undefined) {
        this.#endpoints.push(endpoint);
      }
    }
    // A range comes in key order, which is address order unless an address has characters beyond
    // the Basic Multilingual Plane: one pass says whether sorting is needed at all.
    if (!isSorted(this.#endpoints)) {
      this.#endpoints.sort((a, b) => compare(a.address, b.address));
    }
    const changed =
      before.length !== this.#endpoints.length ||
      before.some((endpoint, i) => !sameEndpoint(endpoint, this.#endpoints[i]));
    if (changed) {
      this.#snapshot = undefined;
    } else {
      // Keep the objects subscribers already hold.
      this.#endpoints = before;
    }
    return changed;
  }

  apply(changes: readonly KeyChange[]): boolean {
    let changed = false;
    for (const change of changes) {
      changed =
        (change.type === 'put' ? this.#put(change) : this.#delete(change.key.toString())) ||
        changed;
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

  #put(entry: KeyValue): boolean {
    const endpoint = this.#read(entry);
    if (endpoint === undefined) {
      return false;
    }
    const index = this.#indexOf(endpoint.address);
    const current = this.#endpoints[index];
    if (current?.address !== endpoint.address) {
      this.#endpoints.splice(index, 0, endpoint);
      return true;
    }
    // A re-registration rewrites the same value: not a change.
    if (isDeepStrictEqual(current.metadata, endpoint.metadata)) {
      return false;
    }
    this.#endpoints[index] = endpoint;
    return true;
  }

  #delete(key: string): boolean {
    const address = this.#addressOf(key);
    if (address === undefined) {
      return false;
    }
    const index = this.#indexOf(address);
    if (this.#endpoints[index]?.address !== address) {
      return false;
    }
    this.#endpoints.splice(index, 1);
    return true;
  }

  /** Where `address` is, or would be inserted. */
  #indexOf(address: string): number {
    let low = 0;
    let high = this.#endpoints.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare((this.#endpoints[mid] as Endpoint).address, address) < 0) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  }

  /** The address a key of this service names, or `undefined` when the key is malformed. */
  #addressOf(key: string): string | undefined {
    const address = key.startsWith(this.#prefix) ? key.slice(this.#prefix.length) : '';
    return address === '' || address.includes('/') ? undefined : address;
  }

  #read(entry: KeyValue): Endpoint | undefined {
    const key = entry.key.toString();
    const address = this.#addressOf(key);
    if (address === undefined) {
      this.#logger.warn(`skipping malformed key ${JSON.stringify(key)}`, {
        expected: '<prefix>services/<service>/<address>',
      });
      return undefined;
    }
    const service = this.#service;
    if (entry.value.length === 0) {
      return Object.freeze({ service, address }); // What the Go gsr writes: nothing to decode.
    }
    const value = entry.value.toString();
    const decoded = decodeMetadata(value);
    if ('error' in decoded) {
      this.#logger.warn(`ignoring the metadata of ${key}: ${decoded.error}`, { value });
      return Object.freeze({ service, address });
    }
    return Object.freeze(
      decoded.metadata === undefined
        ? { service, address }
        : { service, address, metadata: decoded.metadata },
    );
  }
}

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

function sameEndpoint(a: Endpoint, b: Endpoint | undefined): boolean {
  return a.address === b?.address && isDeepStrictEqual(a.metadata, b.metadata);
}
