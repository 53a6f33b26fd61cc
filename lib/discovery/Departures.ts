import type { Endpoint } from '../endpoint/Endpoint';
import { endpointState } from '../endpoint/EndpointState';

/**
 * What a list does with a key that vanishes without its instance saying it was leaving (see
 * {@link Departures}).
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
 * The unplanned departures of one service, remembered for `protection.keepMs`: keys that went without
 * their instance saying it was leaving (a lease that expired while the instance was cut off from etcd,
 * a delete by someone else). While the service's endpoints are fewer than `protection.threshold` of
 * themselves plus those remembered, the list shows the remembered ones as `'lost'`: the last resort,
 * never what etcd holds. A planned departure (its key said `draining` first) says the service is being
 * changed on purpose and forgets them all; a key written again forgets its own.
 * @internal
 */
export class Departures {
  readonly #protection: Protection;
  /** By address, listed or not. */
  readonly #departed = new Map<string, Departure>();

  constructor(protection: Protection) {
    this.#protection = protection;
  }

  /** Every remembered departure: its address, and what it lists as lost. */
  *lost(): IterableIterator<readonly [string, Endpoint]> {
    for (const [address, { lost }] of this.#departed) {
      yield [address, lost];
    }
  }

  /**
   * `endpoint`'s key went: remembered, unless it said it was leaving, which forgets every departure of
   * the service (returned, for the list to unlist those it shows).
   */
  left(endpoint: Endpoint): readonly (readonly [string, Endpoint])[] {
    if (endpointState(endpoint) === 'draining') {
      const forgotten = [...this.lost()];
      this.#departed.clear();
      return forgotten;
    }
    this.#departed.set(endpoint.address, {
      lost: Object.freeze({ ...endpoint, state: 'lost' as const }),
      at: this.#protection.now(),
    });
    return [];
  }

  /** A key at `address` is in etcd again: its departure is over. */
  returned(address: string): void {
    this.#departed.delete(address);
  }

  /** Forgets every departure: they were another store's. */
  clear(): void {
    this.#departed.clear();
  }

  /** Forgets the departures kept `keepMs`; returns them, for the list to unlist those it shows. */
  expire(): readonly (readonly [string, Endpoint])[] {
    const { now, keepMs } = this.#protection;
    const time = now();
    const expired: [string, Endpoint][] = [];
    for (const [address, { at, lost }] of this.#departed) {
      if (time - at >= keepMs) {
        this.#departed.delete(address);
        expired.push([address, lost]);
      }
    }
    return expired;
  }

  /** Whether `live` endpoints are few enough, against those that vanished, to list the vanished. */
  protecting(live: number): boolean {
    const departed = this.#departed.size;
    return departed > 0 && live < this.#protection.threshold * (live + departed);
  }

  /** How many departures the list shows as lost, by what it shows at each address. */
  shown(listedAt: (address: string) => Endpoint | undefined): number {
    let shown = 0;
    for (const [address, { lost }] of this.#departed) {
      shown += listedAt(address) === lost ? 1 : 0;
    }
    return shown;
  }

  /** When the first departure is forgotten, if one is remembered. */
  nextExpiry(): number | undefined {
    let first: number | undefined;
    for (const { at } of this.#departed.values()) {
      first = first === undefined ? at : Math.min(first, at);
    }
    return first === undefined ? undefined : first + this.#protection.keepMs;
  }
}
