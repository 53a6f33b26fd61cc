/** How many of its recent leases a registry knows for its own. */
const KEPT = 32;

/** etcd's lease id for a key bound to no lease. */
const NO_LEASE = '0';

/**
 * The leases a registry wrote keys on lately, newest last: a key found on one of them is ours from
 * before (a backup restored brings an old lease of ours back), not another process's, so it is ours
 * to write again or to delete. The last {@link KEPT} are known.
 * @internal
 */
export class OwnLeases {
  readonly #leases = new Set<string>();

  /** A key is being written on `lease`. */
  wrote(lease: string): void {
    this.#leases.delete(lease);
    this.#leases.add(lease);
    if (this.#leases.size > KEPT) {
      this.#leases.delete(this.#leases.values().next().value as string);
    }
  }

  has(lease: string): boolean {
    return this.#leases.has(lease);
  }

  /**
   * The leases under which a key written on `lease` is still ours, to write over or to delete: that
   * one, none (absent, or someone put it without one), and an old lease of ours it was last seen on
   * (`seen`). Under any other, it is another live registration's.
   */
  ownedUnder(lease: string, seen: string | undefined): readonly string[] {
    return seen !== undefined && seen !== lease && seen !== NO_LEASE && this.#leases.has(seen)
      ? [lease, NO_LEASE, seen]
      : [lease, NO_LEASE];
  }
}
