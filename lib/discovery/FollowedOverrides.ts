import type { Observable, Subscription } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import type { Maintenance } from '../endpoint/Maintenance';
import { messageOf } from '../errors/messageOf';
import { applyOverrides } from './applyOverrides';
import { Overrides } from './OverrideList';

/**
 * A registry's one watch of operators' overrides, shared by every list that shows them: started with
 * its first follower, released with its last, and each follower told when its service's overrides
 * change (and once they were first read). A watch that fails for good leaves lists without overrides,
 * said once.
 * @internal
 */
export class FollowedOverrides {
  readonly #overrides$: () => Observable<Overrides>;
  readonly #warn: (message: string) => void;
  /** The overrides as last read; `undefined` until then. */
  #current: Overrides | undefined;
  #subscription: Subscription | undefined;
  readonly #followers = new Map<string, Set<() => void>>();
  /** Each list as overrides made it, so that every subscriber gets the same array. */
  readonly #applied = new WeakMap<
    readonly Endpoint[],
    { readonly overrides: ReadonlyMap<string, Maintenance>; readonly list: readonly Endpoint[] }
  >();

  constructor(overrides$: () => Observable<Overrides>, warn: (message: string) => void) {
    this.#overrides$ = overrides$;
    this.#warn = warn;
  }

  /** `service`'s overrides as last read; `undefined` until they were, or when it has none. */
  of(service: string): ReadonlyMap<string, Maintenance> | undefined {
    return this.#current?.get(service);
  }

  /** Whether the overrides were read (a list waits for them before its first value). */
  get known(): boolean {
    return this.#current !== undefined;
  }

  /**
   * `list` with the endpoints `service`'s overrides put in maintenance: the same array for the same
   * list and overrides, whoever asks.
   */
  apply(list: readonly Endpoint[], service: string): readonly Endpoint[] {
    const overrides = this.of(service);
    if (overrides === undefined) {
      return list;
    }
    const known = this.#applied.get(list);
    if (known?.overrides === overrides) {
      return known.list;
    }
    const inMaintenance = applyOverrides(list, overrides);
    this.#applied.set(list, { overrides, list: inMaintenance });
    return inMaintenance;
  }

  /** Calls `changed` each time `service`'s overrides change, and once they are first read. */
  follow(service: string, changed: () => void): () => void {
    let followers = this.#followers.get(service);
    if (followers === undefined) {
      followers = new Set();
      this.#followers.set(service, followers);
    }
    followers.add(changed);
    if (this.#subscription !== undefined) {
      if (this.#current !== undefined) {
        changed(); // Already read: a new follower has them at once.
      }
      return () => this.#unfollow(service, changed);
    }
    this.#subscription = this.#overrides$().subscribe({
      next: (all) => {
        const before = this.#current;
        this.#current = all;
        for (const [name, named] of [...this.#followers]) {
          if (before === undefined || before.get(name) !== all.get(name)) {
            named.forEach((follower) => follower());
          }
        }
      },
      error: (error: unknown) => {
        // What retrying cannot fix: lists go on without overrides.
        this.#warn(`cannot follow operators' overrides (${messageOf(error)}); lists show none`);
        this.#current = Overrides.none;
        [...this.#followers.values()].forEach((named) => named.forEach((follower) => follower()));
      },
    });
    return () => this.#unfollow(service, changed);
  }

  /** A follower left: with none left, the watch of overrides is released (after its grace period). */
  #unfollow(service: string, changed: () => void): void {
    const followers = this.#followers.get(service);
    followers?.delete(changed);
    if (followers?.size === 0) {
      this.#followers.delete(service);
    }
    if (this.#followers.size === 0) {
      this.#subscription?.unsubscribe();
      this.#subscription = undefined;
      this.#current = undefined;
    }
  }
}
