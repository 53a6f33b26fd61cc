import { EtcdLeaseInvalidError, type Lease } from 'etcd3';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdContext } from '../etcd/EtcdContext';
import { Retrier } from '../etcd/Retrier';
import { retryEtcd } from '../etcd/retryEtcd';

interface Waiter {
  readonly resolve: (id: string) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The one lease a registry binds its endpoints' keys to, kept alive by one keepalive stream however many
 * endpoints it holds. Its contract is explicit, so that nothing depends on when a teardown runs:
 *
 * - {@link SharedLease.id} grants a lease if none is held (retrying until etcd grants one) and resolves
 *   with its id;
 * - when the lease is lost (expired during a partition or a long pause, revoked behind gsr's back, or
 *   gone with etcd's data) it grants a new one as soon as etcd answers and calls `replaced`, so that the
 *   keys are written again on it;
 * - {@link SharedLease.release} revokes it, which deletes every key still bound to it, and resolves only
 *   once etcd confirmed that.
 * @internal
 */
export class SharedLease {
  readonly #context: EtcdContext;
  readonly #ttlSeconds: number;
  readonly #replaced: (id: string) => void;
  readonly #retrier: Retrier;
  #lease: Lease | undefined;
  #id: string | undefined;
  #waiters: Waiter[] = [];
  /** When the last lease was lost, while a new one is being granted. */
  #lostAt: number | undefined;
  #streaming = false;
  /** The revocation under way, with the id it revokes: releases while none is held share it. */
  #revoking: Promise<string | undefined> | undefined;

  constructor(context: EtcdContext, ttlSeconds: number, replaced: (id: string) => void) {
    this.#context = context;
    this.#ttlSeconds = ttlSeconds;
    this.#replaced = replaced;
    this.#retrier = new Retrier(context, { key: '(lease)', description: 'grant a lease' });
    // A registry that closes stops waiting for a grant (release() still revokes one under way).
    context.closing.addEventListener(
      'abort',
      () => {
        this.#retrier.cancel();
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
      if (this.#lease === undefined && !this.#retrier.waiting) {
        this.#grant();
      }
    });
  }

  /** etcd said it does not know lease `id` (a write found out): replace it now. */
  invalidate(id: string): void {
    if (this.#lease !== undefined && this.#id === id) {
      this.#lost(this.#lease, new EtcdLeaseInvalidError(id));
    }
  }

  /**
   * Stops keeping the lease alive and revokes it, which deletes every key still bound to it. Resolves
   * with the id it revoked once etcd confirmed, retrying until then; once the registry is closing, it
   * tries once and rejects (an `EtcdUnavailableError`) if etcd did not confirm: the keys then expire
   * with the lease's TTL. While a revocation is under way and no new lease is held, a release shares it;
   * with nothing held or under way, it resolves at once with `undefined`.
   */
  release(): Promise<string | undefined> {
    const lease = this.#lease;
    const id = this.#id;
    this.#retrier.cancel();
    this.#stopStreaming();
    this.#lease = undefined;
    this.#id = undefined;
    this.#lostAt = undefined;
    const closed = new RegistryClosedError('grant a lease');
    this.#waiters.splice(0).forEach((waiter) => waiter.reject(closed));
    if (lease === undefined) {
      return this.#revoking ?? Promise.resolve(undefined);
    }
    lease.removeAllListeners();
    lease.on('lost', ignore);
    const { logger } = this.#context;
    const description = `revoke lease ${id ?? '(being granted)'}`;
    const revoking = retryEtcd(
      this.#context,
      { key: '(lease)', description },
      () => lease.revoke(),
      this.#context.closing,
    ).then(() => {
      logger.debug(`revoked lease ${id ?? '(being granted)'}`);
      return id;
    });
    this.#revoking = revoking;
    const forget = (): void => {
      if (this.#revoking === revoking) {
        this.#revoking = undefined;
      }
    };
    revoking.then(forget, forget);
    return revoking;
  }

  #grant(): void {
    const lease = this.#context.client.lease(this.#ttlSeconds);
    this.#lease = lease;
    this.#id = undefined;
    const { health, logger } = this.#context;
    lease.on('lost', (error: unknown) => this.#lost(lease, error));
    lease.on('keepaliveSucceeded', () => health.up());
    lease.on('keepaliveEstablished', () => {
      if (!this.#streaming) {
        this.#streaming = true;
        health.streamOpened();
      }
    });
    lease.on('keepaliveFailed', (error: unknown) => {
      if (!(error instanceof EtcdLeaseInvalidError)) {
        health.down(error); // A lease etcd no longer knows is not a connection problem.
      }
    });
    lease.grant().then((id) => {
      if (this.#lease !== lease) {
        return;
      }
      this.#id = id;
      this.#retrier.succeeded();
      const replacing = this.#lostAt !== undefined;
      if (this.#lostAt !== undefined) {
        logger.info(`granted lease ${id} ${Date.now() - this.#lostAt}ms after losing the last one`);
        this.#lostAt = undefined;
      } else {
        logger.debug(`granted lease ${id}`, { ttlSeconds: this.#ttlSeconds });
      }
      this.#waiters.splice(0).forEach((waiter) => waiter.resolve(id));
      if (replacing) {
        this.#replaced(id);
      }
    }, ignore); // A failed grant is reported as 'lost' too.
  }

  #lost(lease: Lease, error: unknown): void {
    if (lease !== this.#lease || this.#context.closing.aborted) {
      return;
    }
    const lostId = this.#id;
    this.#stopStreaming();
    lease.removeAllListeners();
    lease.release();
    this.#lease = undefined;
    this.#id = undefined;
    const fatal = this.#retrier.failed(error, () => this.#grant());
    if (fatal !== undefined) {
      this.#waiters.splice(0).forEach((waiter) => waiter.reject(fatal));
      return;
    }
    if (lostId !== undefined && this.#lostAt === undefined) {
      this.#lostAt = Date.now();
      this.#context.logger.info(`lease ${lostId} lost; granting a new one`, { cause: error });
    }
  }

  #stopStreaming(): void {
    if (this.#streaming) {
      this.#streaming = false;
      this.#context.health.streamClosed();
    }
  }
}

function ignore(): void {
  // Handled elsewhere.
}
