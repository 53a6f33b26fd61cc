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
  readonly #layout: KeyLayout;
  readonly #logger: Logger;
  /** Sorted by address (UTF-16 code unit order, like `Array.prototype.sort`). */
  #endpoints: Endpoint[] = [];
  /** Each endpoint's raw value, to tell a rewrite of the same value from a change. */
  #values = new Map<string, string>();
  #snapshot: readonly Endpoint[] | undefined;

  constructor(layout: KeyLayout, logger: Logger) {
    this.#layout = layout;
    this.#logger = logger;
  }

  get size(): number {
    return this.#endpoints.length;
  }

  reset(entries: readonly KeyValue[]): boolean {
    const before = this.#endpoints;
    this.#endpoints = [];
    this.#values = new Map();
    for (const { key, value } of entries) {
      const endpoint = this.#read(key, value);
      if (endpoint !== undefined) {
        this.#endpoints.push(endpoint);
        this.#values.set(endpoint.address, value);
      }
    }
    this.#endpoints.sort((a, b) => compare(a.address, b.address));
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
      changed = (change.type === 'put' ? this.#put(change) : this.#delete(change.key)) || changed;
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

  #put({ key, value }: KeyValue): boolean {
    const endpoint = this.#read(key, value);
    if (endpoint === undefined) {
      return false;
    }
    const index = this.#indexOf(endpoint.address);
    const current = this.#endpoints[index];
    const previous = this.#values.get(endpoint.address);
    this.#values.set(endpoint.address, value);
    if (current?.address !== endpoint.address) {
      this.#endpoints.splice(index, 0, endpoint);
      return true;
    }
    // A lease renewal or re-registration rewrites the same value: not a change.
    if (previous === value || isDeepStrictEqual(current.metadata, endpoint.metadata)) {
      return false;
    }
    this.#endpoints[index] = endpoint;
    return true;
  }

  #delete(key: string): boolean {
    const address = this.#layout.parse(key)?.address;
    if (address === undefined || !this.#values.delete(address)) {
      return false;
    }
    this.#endpoints.splice(this.#indexOf(address), 1);
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

  #read(key: string, value: string): Endpoint | undefined {
    const parts = this.#layout.parse(key);
    if (parts === undefined) {
      this.#logger.warn(`skipping malformed key ${JSON.stringify(key)}`, {
        expected: '<prefix>services/<service>/<address>',
      });
      return undefined;
    }
    const decoded = decodeMetadata(value);
    if ('error' in decoded) {
      this.#logger.warn(`ignoring the metadata of ${key}: ${decoded.error}`, { value });
      return Object.freeze({ service: parts.service, address: parts.address });
    }
    return Object.freeze(
      decoded.metadata === undefined
        ? { service: parts.service, address: parts.address }
        : { service: parts.service, address: parts.address, metadata: decoded.metadata },
    );
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameEndpoint(a: Endpoint, b: Endpoint | undefined): boolean {
  return a.address === b?.address && isDeepStrictEqual(a.metadata, b.metadata);
}
