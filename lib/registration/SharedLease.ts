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
 *   a lease granted after nobody wanted it is never left behind.
 * @internal
 */
export class SharedLease {
  readonly #context: EtcdContext;
  readonly #ttlSeconds: number;
  readonly #replaced: (id: string) => void;
  readonly #granting: Retrier;
  readonly #renewing: Retrier;
  /** Changes with each grant and release: an answer for an older one is stale. */
  #generation = 0;
  /** The grant request in flight, settled once its lease is kept or (stale) revoked. */
  #inflight: Promise<void> | undefined;
  #id: string | undefined;
  #waiters: Waiter[] = [];
  /** When a granted lease was lost, while a new one is being granted. */
  #lostAt: number | undefined;
  /** When etcd last renewed the lease (the clock's time). */
  #renewedAt = 0;
  #cancelTick: Cancel | undefined;
  #keepAlive: KeepAlive | undefined;
  /** The revocation under way, with the id it revokes: releases while none is held share it. */
  #revoking: Promise<string | undefined> | undefined;
  /** A lease whose revocation failed: the next release (close's) tries it once more. */
  #unrevoked: string | undefined;

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
    if (this.#id !== undefined) {
      return Promise.resolve(this.#id);
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

  /** etcd said it does not know lease `id` (a write found out): replace it now. */
  invalidate(id: string): void {
    if (this.#id === id) {
      this.#lost(`etcd no longer knows lease ${id}`);
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
    // A revocation that failed (the registry began closing while it was unanswered) is tried once more.
    const id = this.#id ?? this.#unrevoked;
    this.#unrevoked = undefined;
    const stale = this.#inflight;
    this.#generation += 1;
    this.#inflight = undefined;
    this.#granting.cancel();
    this.#stopRenewing();
    this.#id = undefined;
    this.#lostAt = undefined;
    if (this.#waiters.length > 0) {
      this.#grant();
    }
    let revoking = this.#revoking ?? Promise.resolve(undefined);
    if (id !== undefined) {
      const revocation = this.#revoke(id).then(() => id);
      this.#revoking = revocation;
      const forget = (): void => {
        if (this.#revoking === revocation) {
          this.#revoking = undefined;
        }
      };
      revocation.then(forget, () => {
        forget();
        if (this.#id === undefined) {
          this.#unrevoked = id;
        }
      });
      revoking = revocation;
    }
    await stale;
    return revoking;
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

  #grant(): void {
    if (this.#inflight !== undefined || this.#id !== undefined || this.#granting.waiting) {
      return;
    }
    const generation = this.#generation;
    const inflight: Promise<void> = this.#context.etcd.grantLease(this.#ttlSeconds).then(
      (id) => this.#granted(id, generation),
      (error: unknown) => this.#grantFailed(error, generation),
    );
    this.#inflight = inflight;
    void inflight.finally(() => {
      if (this.#inflight === inflight) {
        this.#inflight = undefined;
      }
    });
  }

  async #granted(id: string, generation: number): Promise<void> {
    if (generation !== this.#generation || this.#context.closing.aborted) {
      // Released (or closing) meanwhile: nobody will keep it alive; do not leave it for its TTL.
      await this.#revoke(id).catch(ignore);
      return;
    }
    this.#inflight = undefined;
    this.#id = id;
    this.#granting.succeeded();
    this.#context.metrics.leaseGrants.add(1);
    const replacing = this.#lostAt !== undefined;
    if (this.#lostAt !== undefined) {
      this.#context.logger.warn(
        `granted lease ${id} ${this.#context.clock.now() - this.#lostAt}ms after losing the last one; writing every registration again on it`,
      );
      this.#lostAt = undefined;
    } else {
      this.#context.logger.debug(`granted lease ${id}`, { ttlSeconds: this.#ttlSeconds });
    }
    this.#startRenewing(id);
    this.#waiters.splice(0).forEach((waiter) => waiter.resolve(id));
    if (replacing) {
      this.#replaced(id);
    }
  }

  #grantFailed(error: unknown, generation: number): void {
    if (generation !== this.#generation) {
      return;
    }
    this.#inflight = undefined;
    const stop = this.#granting.failed(error, () => this.#grant());
    if (stop !== undefined) {
      const fatal = 'error' in stop ? stop.error : new Error('etcd lost a lease it just granted');
      this.#waiters.splice(0).forEach((waiter) => waiter.reject(fatal));
    }
  }

  /** Asks for a renewal every third of the TTL, and gives the lease up once a whole TTL went unanswered. */
  #startRenewing(id: string): void {
    this.#renewedAt = this.#context.clock.now();
    this.#openKeepAlive(id);
    this.#tick(id);
  }

  #tick(id: string): void {
    const periodMs = (this.#ttlSeconds * 1000) / 3;
    this.#cancelTick = this.#context.clock.schedule(periodMs, () => {
      if (this.#id !== id) {
        return;
      }
      if (this.#context.clock.now() - this.#renewedAt >= this.#ttlSeconds * 1000) {
        this.#lost(`no keepalive of lease ${id} was answered for ${this.#ttlSeconds}s`);
        return;
      }
      if (this.#keepAlive !== undefined) {
        this.#keepAlive.renew();
      } else if (!this.#renewing.waiting) {
        this.#openKeepAlive(id);
      }
      this.#tick(id);
    });
  }

  #openKeepAlive(id: string): void {
    const keepAlive = this.#context.etcd.keepAlive(id, {
      renewed: (ttlSeconds) => {
        if (this.#id !== id || this.#keepAlive !== keepAlive) {
          return;
        }
        if (ttlSeconds <= 0) {
          this.#lost(`etcd no longer knows lease ${id}`);
          return;
        }
        this.#renewedAt = this.#context.clock.now();
        this.#renewing.succeeded();
      },
      failed: (error) => {
        if (this.#id !== id || this.#keepAlive !== keepAlive) {
          return;
        }
        this.#keepAlive = undefined;
        const stop = this.#renewing.failed(error, () => {
          if (this.#id === id && this.#keepAlive === undefined) {
            this.#openKeepAlive(id);
          }
        });
        if (stop !== undefined) {
          this.#lost(`keeping lease ${id} alive failed: ${messageOf(error)}`);
        }
      },
    });
    this.#keepAlive = keepAlive;
    keepAlive.renew();
  }

  /** The lease is gone (or given up): a new one is granted, and the keys written again on it. */
  #lost(why: string): void {
    const lostId = this.#id;
    if (lostId === undefined) {
      return;
    }
    this.#generation += 1;
    this.#stopRenewing();
    this.#id = undefined;
    if (this.#context.closing.aborted) {
      return;
    }
    // Left to expire rather than revoked: should etcd still hold it, a revocation would delete keys
    // that the new lease has not taken over yet. Without keepalives it goes within its TTL.
    this.#lostAt = this.#context.clock.now();
    this.#context.metrics.leaseLosses.add(1);
    this.#context.logger.warn(`lease ${lostId} lost (${why}); granting a new one`);
    this.#grant();
  }

  #stopRenewing(): void {
    this.#cancelTick?.();
    this.#cancelTick = undefined;
    this.#renewing.cancel();
    this.#keepAlive?.close();
    this.#keepAlive = undefined;
  }
}
