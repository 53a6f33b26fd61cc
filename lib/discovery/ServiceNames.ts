import type { Logger } from 'winston';
import type { KeyLayout } from '../keys/KeyLayout';
import type { KeyChange, KeyValue, PrefixState } from './PrefixUpdate';

/**
 * The sorted names of the services that have at least one endpoint, kept up to date as endpoint keys
 * come and go. Changes that leave the set of names as it was (a second endpoint of a known service)
 * do not count as changes.
 * @internal
 */
export class ServiceNames implements PrefixState<readonly string[]> {
  readonly #layout: KeyLayout;
  readonly #logger: Logger;
  /** Each service's addresses: a name leaves the list with its last address. */
  #addresses = new Map<string, Set<string>>();
  #snapshot: readonly string[] | undefined;

  constructor(layout: KeyLayout, logger: Logger) {
    this.#layout = layout;
    this.#logger = logger;
  }

  reset(entries: readonly KeyValue[]): boolean {
    const before = this.snapshot();
    this.#addresses = new Map();
    for (const { key } of entries) {
      this.#add(key.toString());
    }
    this.#snapshot = undefined;
    const after = this.snapshot();
    const changed = before.length !== after.length || before.some((name, i) => name !== after[i]);
    if (!changed) {
      this.#snapshot = before;
    }
    return changed;
  }

  apply(changes: readonly KeyChange[]): boolean {
    let changed = false;
    for (const { type, key } of changes) {
      const text = key.toString();
      changed = (type === 'put' ? this.#add(text) : this.#remove(text)) || changed;
    }
    if (changed) {
      this.#snapshot = undefined;
    }
    return changed;
  }

  snapshot(): readonly string[] {
    this.#snapshot ??= Object.freeze([...this.#addresses.keys()].sort());
    return this.#snapshot;
  }

  /** Whether the key brought a new service. */
  #add(key: string): boolean {
    const parts = this.#layout.parse(key);
    if (parts === undefined) {
      this.#logger.warn(`skipping malformed key ${JSON.stringify(key)}`);
      return false;
    }
    const addresses = this.#addresses.get(parts.service);
    if (addresses !== undefined) {
      addresses.add(parts.address);
      return false;
    }
    this.#addresses.set(parts.service, new Set([parts.address]));
    return true;
  }

  /** Whether the key took a service's last endpoint. */
  #remove(key: string): boolean {
    const parts = this.#layout.parse(key);
    const addresses = parts && this.#addresses.get(parts.service);
    if (parts === undefined || addresses === undefined || !addresses.delete(parts.address)) {
      return false;
    }
    if (addresses.size > 0) {
      return false;
    }
    this.#addresses.delete(parts.service);
    return true;
  }
}
