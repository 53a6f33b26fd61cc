import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { Cancel } from '../etcd/Clock';
import type { EtcdContext } from '../etcd/EtcdContext';
import { messageOf } from '../errors/messageOf';
import type { KeepAlive } from '../etcd/EtcdPort';
import { Retrier } from '../etcd/Retrier';
import { retryEtcd } from '../etcd/retryEtcd';

interface Waiter {
  readonly resolve: (id: string) => void;
  readonly reject: (error: Error) => void;
}

const ignore = (): void => undefined;

/** How many leases given up as lost a registry revokes at its next release, the newest. */
const GIVEN_UP_KEPT = 8;

/** A revocation under way, resolving with the id it revoked. */
interface Revocation {
  readonly id: string;
  readonly done: Promise<string>;
}

/**
 * Where the lease stands: none wanted (`idle`); being granted, after a loss (`lostAt`) or for a first
 * caller, with the request in flight if one is (else a retry is scheduled, or it gave up); `held`, kept
 * alive; or released and being revoked, with nothing wanted (`revoking`). A grant wanted while an old
 * lease is still being revoked carries that revocation, for a release to share.
 * @internal
 */
type LeaseState =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'granting';
      readonly lostAt: number | undefined;
      request: Promise<void> | undefined;
      revocation: Revocation | undefined;
    }
  | {
      readonly kind: 'held';
      readonly id: string;
      /** When etcd last renewed it (the clock's time). */
      renewedAt: number;
      keepAlive: KeepAlive | undefined;
      cancelTick: Cancel | undefined;
    }
  | { readonly kind: 'revoking'; readonly revocation: Revocation };

type Granting = Extract<LeaseState, { kind: 'granting' }>;
type Held = Extract<LeaseState, { kind: 'held' }>;

/**
 * The one lease a registry binds its endpoints' keys to, kept alive by one keepalive however many
 * endpoints it holds. Its contract is explicit, so that nothing depends on when a teardown runs:
 *
 * - {@link SharedLease.id} grants a lease if none is held (retrying until etcd grants one) and resolves
 *   with its id;
 * - when the lease is lost (etcd answers that it no longer knows it, or no keepalive was answered for a
 *   whole TTL: a partition, a long pause, etcd's data gone) it grants a new one as soon as etcd answers
 *   and calls `replaced`, so that the keys are written again on it;
 * - {@link SharedLease.release} revokes it, which deletes every key still bound to it, and resolves only
 *   once etcd confirmed that, and once a grant still in flight was answered and its lease revoked too:
 *   a lease granted after nobody wanted it is never left behind; leases given up as lost meanwhile are
 *   revoked too (etcd may still hold one whose renewal it applied without the answer arriving).
 *
 * Its state is one {@link LeaseState}, after etcd's `concurrency.Session`: what a callback may act on
 * is decided by whether the state it was made for is still the current one (an answer for a grant
 * that was released, a keepalive of a lease that was lost), not by counters kept beside it.
 * @internal
 */
export class SharedLease {
  readonly #context: EtcdContext;
  readonly #ttlSeconds: number;
  readonly #replaced: (id: string) => void;
  readonly #granting: Retrier;
  readonly #renewing: Retrier;
  #state: LeaseState = { kind: 'idle' };
  #waiters: Waiter[] = [];
  /** A lease whose revocation failed while none was held: the next release (close's) tries it again. */
  #unrevoked: string | undefined;
  /**
   * Leases given up as lost: etcd may still hold one (a renewal it applied whose answer never came), with
   * keys of ours on it until its TTL ends. The next release revokes them too.
   */
  readonly #givenUp = new Set<string>();

  constructor(context: EtcdContext, ttlSeconds: number, replaced: (id: string) => void) {
    this.#context = context;
    this.#ttlSeconds = ttlSeconds;
    this.#replaced = replaced;
    this.#granting = new Retrier(context, { key: '(lease)', description: 'grant a lease' });
    this.#renewing = new Retrier(context, { key: '(lease)', description: 'keep the lease alive' });
    // A registry that closes stops waiting for a grant (release() still revokes what was granted).
    context.closing.addEventListener(
      'abort',
      () => {
        this.#granting.cancel();
        const closed = new RegistryClosedError('grant a lease');
        this.#waiters.splice(0).forEach((waiter) => waiter.reject(closed));
      },
      { once: true },
    );
  }

  /** The lease's id once granted: now if it is, else after a grant (retried on gsr's backoff). */
  id(): Promise<string> {
    if (this.#state.kind === 'held') {
      return Promise.resolve(this.#state.id);
    }
    return new Promise((resolve, reject) => {
      if (this.#context.closing.aborted) {
        reject(new RegistryClosedError('grant a lease'));
        return;
      }
      this.#waiters.push({ resolve, reject });
      this.#grant();
    });
  }

  /** Whether lease `id` is the one held now (not given up, replaced or released). */
  holds(id: string): boolean {
    return this.#state.kind === 'held' && this.#state.id === id;
  }

  /** etcd said it does not know lease `id` (a write found out): replace it now. */
  invalidate(id: string): void {
    if (this.#state.kind === 'held' && this.#state.id === id) {
      this.#lost(this.#state, `etcd no longer knows lease ${id}`, false);
    }
  }

  /**
   * Stops keeping the lease alive and revokes it, which deletes every key still bound to it. Resolves
   * with the id it revoked once etcd confirmed, retrying until then; once the registry is closing, it
   * tries once and rejects (an `EtcdUnavailableError`) if etcd did not confirm: the keys then expire
   * with the lease's TTL. It also waits for a grant in flight, whose lease it revokes. While a
   * revocation is under way and no new lease is held, a release shares it; with nothing held or under
   * way, it resolves with `undefined`. Anyone still waiting for a lease gets a new one.
   */
  async release(): Promise<string | undefined> {
    const state = this.#state;
    // A revocation that failed (the registry began closing while it was unanswered) is tried once more.
    const id = state.kind === 'held' ? state.id : this.#unrevoked;
    this.#unrevoked = undefined;
    const stale = state.kind === 'granting' ? state.request : undefined;
    let revocation =
      state.kind === 'revoking' || state.kind === 'granting' ? state.revocation : undefined;
    this.#granting.cancel();
    if (state.kind === 'held') {
      this.#stopRenewing(state);
    }
    if (id !== undefined) {
      revocation = this.#revocation(id);
    }
    this.#state = revocation === undefined ? { kind: 'idle' } : { kind: 'revoking', revocation };
    if (this.#waiters.length > 0) {
      this.#grant();
    }
    const givenUp = [...this.#givenUp].map((lost) => this.#revoke(lost).catch(ignore));
    this.#givenUp.clear();
    await stale;
    await Promise.all(givenUp);
    return revocation?.done;
  }

  /** Revokes `id`; once settled, the state forgets it (a later release then shares nothing). */
  #revocation(id: string): Revocation {
    const revocation: Revocation = { id, done: this.#revoke(id).then(() => id) };
    const forget = (): void => {
      const state = this.#state;
      if (state.kind === 'revoking' && state.revocation === revocation) {
        this.#state = { kind: 'idle' };
      } else if (state.kind === 'granting' && state.revocation === revocation) {
        state.revocation = undefined;
      }
    };
    revocation.done.then(forget, () => {
      forget();
      if (this.#state.kind !== 'held') {
        this.#unrevoked = id;
      }
    });
    return revocation;
  }

  #revoke(id: string, signal: AbortSignal = this.#context.closing): Promise<void> {
    return retryEtcd(
      this.#context,
      { key: '(lease)', description: `revoke lease ${id}` },
      () => this.#context.etcd.revokeLease(id),
      signal,
    ).then(() => {
      this.#context.logger.debug(`revoked lease ${id}`);
    });
  }

  /** Asks etcd for a lease, unless one is held, asked for, or a retry of that is scheduled. */
  #grant(): void {
    let state = this.#state;
    if (state.kind === 'held') {
      return;
    }
    if (state.kind !== 'granting') {
      const revocation = state.kind === 'revoking' ? state.revocation : undefined;
      state = { kind: 'granting', lostAt: undefined, request: undefined, revocation };
      this.#state = state;
    }
    if (state.request !== undefined || this.#granting.waiting) {
      return;
    }
    const granting = state;
    const request: Promise<void> = this.#context.etcd.grantLease(this.#ttlSeconds).then(
      (id) => this.#granted(id, granting),
      (error: unknown) => this.#grantFailed(error, granting),
    );
    granting.request = request;
    void request.finally(() => {
      if (granting.request === request) {
        granting.request = undefined;
      }
    });
  }

  async #granted(id: string, granting: Granting): Promise<void> {
    if (this.#state !== granting || this.#context.closing.aborted) {
      // Released (or closing) meanwhile: nobody will keep it alive; do not leave it for its TTL.
      await this.#revoke(id).catch(ignore);
      return;
    }
    const held: Held = {
      kind: 'held',
      id,
      renewedAt: this.#context.clock.now(),
      keepAlive: undefined,
      cancelTick: undefined,
    };
    this.#state = held;
    this.#granting.succeeded();
    this.#context.metrics.leaseGrants.add(1);
    const { lostAt } = granting;
    if (lostAt !== undefined) {
      this.#context.logger.warn(
        `granted lease ${id} ${this.#context.clock.now() - lostAt}ms after losing the last one; writing every registration again on it`,
      );
    } else {
      this.#context.logger.debug(`granted lease ${id}`, { ttlSeconds: this.#ttlSeconds });
    }
    this.#openKeepAlive(held);
    this.#tick(held);
    this.#waiters.splice(0).forEach((waiter) => waiter.resolve(id));
    if (lostAt !== undefined) {
      this.#replaced(id);
    }
  }

  #grantFailed(error: unknown, granting: Granting): void {
    if (this.#state !== granting) {
      return;
    }
    granting.request = undefined;
    // A verdict to stop leaves the state granting: the next caller's grant starts from it again.
    const stop = this.#granting.failed(error, () => this.#grant());
    if (stop !== undefined) {
      const fatal = 'error' in stop ? stop.error : new Error('etcd lost a lease it just granted');
      this.#waiters.splice(0).forEach((waiter) => waiter.reject(fatal));
    }
  }

  /** Asks for a renewal every third of the TTL, and gives the lease up once a whole TTL went unanswered. */
  #tick(held: Held): void {
    const periodMs = (this.#ttlSeconds * 1000) / 3;
    held.cancelTick = this.#context.clock.schedule(periodMs, () => {
      if (this.#state !== held) {
        return;
      }
      if (this.#context.clock.now() - held.renewedAt >= this.#ttlSeconds * 1000) {
        this.#lost(held, `no keepalive of lease ${held.id} was answered for ${this.#ttlSeconds}s`);
        return;
      }
      if (held.keepAlive !== undefined) {
        held.keepAlive.renew();
      } else if (!this.#renewing.waiting) {
        this.#openKeepAlive(held);
      }
      this.#tick(held);
    });
  }

  #openKeepAlive(held: Held): void {
    const { id } = held;
    const current = (): boolean => this.#state === held && held.keepAlive === keepAlive;
    const keepAlive = this.#context.etcd.keepAlive(id, {
      renewed: (ttlSeconds) => {
        if (!current()) {
          return;
        }
        if (ttlSeconds <= 0) {
          this.#lost(held, `etcd no longer knows lease ${id}`, false);
          return;
        }
        held.renewedAt = this.#context.clock.now();
        this.#renewing.succeeded();
      },
      failed: (error) => {
        if (!current()) {
          return;
        }
        held.keepAlive = undefined;
        const stop = this.#renewing.failed(error, () => {
          if (this.#state === held && held.keepAlive === undefined) {
            this.#openKeepAlive(held);
          }
        });
        if (stop !== undefined) {
          this.#lost(held, `keeping lease ${id} alive failed: ${messageOf(error)}`);
        }
      },
    });
    held.keepAlive = keepAlive;
    keepAlive.renew();
  }

  /**
   * The one event of a loss: the lease is gone (or given up); a new one is granted, and `replaced`
   * writes the keys again on it. `mayLive`: etcd did not say it is gone, so the next release revokes it.
   */
  #lost(held: Held, why: string, mayLive = true): void {
    this.#stopRenewing(held);
    if (mayLive) {
      // etcd may still hold it (only gone when etcd said so); the newest few are enough: each goes
      // within its TTL of the last renewal etcd applied, without keepalives.
      this.#givenUp.add(held.id);
      if (this.#givenUp.size > GIVEN_UP_KEPT) {
        this.#givenUp.delete(this.#givenUp.values().next().value as string);
      }
    }
    if (this.#context.closing.aborted) {
      this.#state = { kind: 'idle' };
      return;
    }
    // Left to expire rather than revoked: should etcd still hold it, a revocation would delete keys
    // that the new lease has not taken over yet. Without keepalives it goes within its TTL.
    const lostAt = this.#context.clock.now();
    this.#state = { kind: 'granting', lostAt, request: undefined, revocation: undefined };
    this.#context.metrics.leaseLosses.add(1);
    this.#context.logger.warn(`lease ${held.id} lost (${why}); granting a new one`);
    this.#grant();
  }

  #stopRenewing(held: Held): void {
    held.cancelTick?.();
    held.cancelTick = undefined;
    this.#renewing.cancel();
    held.keepAlive?.close();
    held.keepAlive = undefined;
  }
}
