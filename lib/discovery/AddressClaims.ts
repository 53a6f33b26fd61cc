import type { Endpoint } from '../endpoint/Endpoint';

/**
 * Which key lists each address, where keys are not addresses (etcd's naming layout: the address is in
 * the value, and two keys may hold the same one). An address is listed once, as the key named after it
 * holds it (the one gsr and etcd's endpoints manager write), else as the lowest key (in `<` order)
 * holds it; when that key goes, the next one stands in.
 * @internal
 */
export class AddressClaims {
  /** Each listed address's keys, by id. */
  readonly #claims = new Map<string, Map<string, Endpoint>>();
  /** Each listed id's address. */
  readonly #addressOf = new Map<string, string>();

  /** The addresses some key lists. */
  addresses(): IterableIterator<string> {
    return this.#claims.keys();
  }

  clear(): void {
    this.#claims.clear();
    this.#addressOf.clear();
  }

  /**
   * Key `id` now lists `endpoint`, or nothing: the addresses whose listing this may change (the one it
   * left, the one it claims), for the caller to list as {@link AddressClaims.winner} says.
   */
  change(id: string, endpoint: Endpoint | undefined): readonly string[] {
    const touched: string[] = [];
    const before = this.#addressOf.get(id);
    if (before !== undefined && before !== endpoint?.address) {
      this.#claims.get(before)?.delete(id);
      this.#addressOf.delete(id);
      touched.push(before);
    }
    if (endpoint !== undefined) {
      this.claim(id, endpoint);
      touched.push(endpoint.address);
    }
    return touched;
  }

  /** Records that key `id` lists `endpoint`. */
  claim(id: string, endpoint: Endpoint): void {
    let ids = this.#claims.get(endpoint.address);
    if (ids === undefined) {
      ids = new Map();
      this.#claims.set(endpoint.address, ids);
    }
    ids.set(id, endpoint);
    this.#addressOf.set(id, endpoint.address);
  }

  /** Which of the keys listing `address` it is listed as; forgets an address no key lists. */
  winner(address: string): Endpoint | undefined {
    const ids = this.#claims.get(address);
    if (ids === undefined || ids.size === 0) {
      this.#claims.delete(address);
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
}
