import type { KeyLayout, KeyValue } from '../keys/KeyLayout';
import type { OnceLog } from '../logging/OnceLog';
import { escapeBytes } from '../text/escapeBytes';
import type { KeyChange, PrefixState } from './PrefixUpdate';

/**
 * The sorted names of the services that have at least one endpoint, kept up to date as endpoint keys
 * come and go. A key counts when `endpoints$` of its service would list it; others are skipped with one
 * log line. Changes that leave the set of names as it was (a second endpoint of a known service) do not
 * count as changes.
 * @internal
 */
export class ServiceNames implements PrefixState<readonly string[]> {
  readonly #layout: KeyLayout;
  readonly #log: OnceLog;
  /** Each service's endpoint ids: a name leaves the list with its last one. */
  #ids = new Map<string, Set<string>>();
  #snapshot: readonly string[] | undefined;

  constructor(layout: KeyLayout, log: OnceLog) {
    this.#layout = layout;
    this.#log = log;
  }

  reset(entries: readonly KeyValue[]): boolean {
    const before = this.snapshot();
    this.#ids = new Map();
    for (const entry of entries) {
      this.#add(entry);
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
    for (const change of changes) {
      changed = (change.type === 'put' ? this.#add(change) : this.#remove(change)) || changed;
    }
    if (changed) {
      this.#snapshot = undefined;
    }
    return changed;
  }

  readonly snapshotWhenEmpty = true;

  entries(): readonly KeyValue[] {
    // The keys without their values: the names are all this list says.
    const prefix = this.#layout.servicesPrefix ?? '';
    const empty = Buffer.alloc(0);
    return [...this.#ids].flatMap(([service, ids]) =>
      [...ids].map((id) => ({ key: Buffer.from(`${prefix}${service}/${id}`), value: empty })),
    );
  }

  snapshot(): readonly string[] {
    this.#snapshot ??= Object.freeze([...this.#ids.keys()].sort());
    return this.#snapshot;
  }

  /** The service and id of an entry (only layouts with a services root have a ServiceNames). */
  #partsOf(
    entry: KeyValue,
  ): { readonly service: string; readonly id: string } | { readonly skip: string } {
    return this.#layout.serviceOfEntry?.(entry) ?? { skip: 'the layout has no services root' };
  }

  /** Whether the entry brought a new service. */
  #add(entry: KeyValue): boolean {
    const parts = this.#partsOf(entry);
    if ('skip' in parts) {
      this.#log.warn(`skipping malformed key "${escapeBytes(entry.key)}": ${parts.skip}`);
      return false;
    }
    const ids = this.#ids.get(parts.service);
    if (ids !== undefined) {
      ids.add(parts.id);
      return false;
    }
    this.#ids.set(parts.service, new Set([parts.id]));
    return true;
  }

  /** Whether the entry took a service's last endpoint. */
  #remove(entry: KeyValue): boolean {
    const parts = this.#partsOf(entry);
    const ids = 'skip' in parts ? undefined : this.#ids.get(parts.service);
    if (ids === undefined || 'skip' in parts || !ids.delete(parts.id) || ids.size > 0) {
      return false;
    }
    this.#ids.delete(parts.service);
    return true;
  }
}
