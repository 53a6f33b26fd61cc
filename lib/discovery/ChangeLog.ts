import type { Endpoint } from '../endpoint/Endpoint';
import { sameEndpoint } from '../endpoint/sameEndpoint';

/** What changed in a list, as it holds its endpoints now. */
interface Delta {
  added: Endpoint[];
  removed: Endpoint[];
  updated: Endpoint[];
}

/**
 * What changed in a list by address, as it was before: since the last value handed out (for balancers'
 * O(changes) updates), and, while someone follows the changes, since they last took them. Each address
 * is noted once, with what it listed before its first change; the difference is worked out against
 * the list as it is now, so that a change undone is none.
 * @internal
 */
export class ChangeLog {
  /** Each address changed since the last value, with what it listed then. */
  readonly #sinceValue = new Map<string, Endpoint | undefined>();
  /** Whether `#sinceValue` says all that changed (not after a reset). */
  #tracked = true;
  /** While someone follows the changes: each address changed since they were last taken. */
  #followed: Map<string, Endpoint | undefined> | undefined;

  /** `address` is about to change; it lists `was` now. */
  note(address: string, was: Endpoint | undefined): void {
    if (this.#tracked && !this.#sinceValue.has(address)) {
      this.#sinceValue.set(address, was);
    }
    if (this.#followed !== undefined && !this.#followed.has(address)) {
      this.#followed.set(address, was);
    }
  }

  /** The list was replaced whole, from `before` to `after` (both sorted). */
  replaced(before: readonly Endpoint[], after: readonly Endpoint[]): void {
    this.#tracked = false;
    this.#sinceValue.clear();
    const log = this.#followed;
    if (log === undefined) {
      return;
    }
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

  /**
   * A value is handed out: what changed since the last one (`undefined` when that is not known, after a
   * reset), and a fresh start.
   */
  valueTaken(listedAt: (address: string) => Endpoint | undefined): Delta | undefined {
    const delta = this.#tracked ? deltaOf(this.#sinceValue, listedAt) : undefined;
    this.#sinceValue.clear();
    this.#tracked = true;
    return delta;
  }

  /** Starts (or stops) keeping what changed for followers. */
  follow(on: boolean): void {
    this.#followed = on ? (this.#followed ?? new Map()) : undefined;
  }

  /** What changed since followers last took it. */
  take(listedAt: (address: string) => Endpoint | undefined): Delta {
    const log = this.#followed ?? new Map<string, Endpoint | undefined>();
    const delta = deltaOf(log, listedAt);
    log.clear();
    return delta;
  }

  /** Followers take everything at once: what they had logged is moot. */
  clearFollowed(): void {
    this.#followed?.clear();
  }
}

/** What changed, from each changed address's former endpoint: as the list holds them now. */
function deltaOf(
  before: ReadonlyMap<string, Endpoint | undefined>,
  listedAt: (address: string) => Endpoint | undefined,
): Delta {
  const added: Endpoint[] = [];
  const removed: Endpoint[] = [];
  const updated: Endpoint[] = [];
  for (const [address, old] of before) {
    const listed = listedAt(address);
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
