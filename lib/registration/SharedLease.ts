import {
  EtcdLeaseInvalidError,
  type IDuplexStream,
  type ILeaseKeepAliveRequest,
  type ILeaseKeepAliveResponse,
} from 'etcd3';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdContext } from '../etcd/EtcdContext';
import { Retrier } from '../etcd/Retrier';
import { retryEtcd } from '../etcd/retryEtcd';

type KeepAliveStream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

interface Waiter {
  readonly resolve: (id: string) => void;
  readonly reject: (error: Error) => void;
}

const ignore = (): void => undefined;

/**
 * The one lease a registry binds its endpoints' keys to, kept alive by one keepalive stream however many
 * endpoints it holds. Its contract is explicit, so that nothing depends on when a teardown runs:
 *
 * - {@link SharedLease.id} grants a lease if none is held (retrying until etcd grants one) and resolves
 *   with its id;
 * - when the lease is lost (etcd answers that it no longer knows it, or no keepalive was answered for a
 *   whole TTL: a partition, a long pause, etcd's data gone) it grants a new one as soon as etcd answers
 *   and calls `replaced`, so that the keys are written again on it;
 * - {@link SharedLease.release} revokes it, which deletes every key still bound to it, and resolves only
 *   once etcd confirmed that.
 *
 * It speaks to etcd through etcd3's RPC client (`leaseGrant`, `leaseKeepAlive`, `leaseRevoke`) rather
 * than etcd3's `Lease`, which re-arms a TTL-long timer when a keepalive answer arrives after it was
 * closed: every timer and stream here is gsr's own, and goes with the lease.
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
  #busy = false;
  #id: string | undefined;
  #waiters: Waiter[] = [];
  /** When a granted lease was lost, while a new one is being granted. */
  #lostAt: number | undefined;
  /** When etcd last renewed the lease (`Date.now()`). */
  #renewedAt = 0;
  #ticker: NodeJS.Timeout | undefined;
  #stream: KeepAliveStream | undefined;
  #streaming = false;
  /** The revocation under way, with the id it revokes: releases while none is held share it. */
  #revoking: Promise<string | undefined> | undefined;

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
      this.#lost(new EtcdLeaseInvalidError(id));
    }
  }

  /**
   * Stops keeping the lease alive and revokes it, which deletes every key still bound to it. Resolves
   * with the id it revoked once etcd confirmed, retrying until then; once the registry is closing, it
   * tries once and rejects (an `EtcdUnavailableError`) if etcd did not confirm: the keys then expire
   * with the lease's TTL. While a revocation is under way and no new lease is held, a release shares it;
   * with nothing held or under way, it resolves at once with `undefined`. Anyone still waiting for a
   * lease gets a new one.
   */
  release(): Promise<string | undefined> {
    const id = this.#id;
    this.#generation += 1;
    this.#busy = false;
    this.#granting.cancel();
    this.#stopRenewing();
    this.#id = undefined;
    this.#lostAt = undefined;
    if (this.#waiters.length > 0) {
      this.#grant();
    }
    if (id === undefined) {
      return this.#revoking ?? Promise.resolve(undefined);
    }
    const revoking = this.#revoke(id, this.#context.closing).then(() => id);
    this.#revoking = revoking;
    const forget = (): void => {
      if (this.#revoking === revoking) {
        this.#revoking = undefined;
      }
    };
    revoking.then(forget, forget);
    return revoking;
  }

  #revoke(id: string, signal: AbortSignal): Promise<void> {
    const { leaseClient } = this.#context.client;
    return retryEtcd(
      this.#context,
      { key: '(lease)', description: `revoke lease ${id}` },
      () =>
        leaseClient.leaseRevoke({ ID: id }).then(ignore, (error: unknown) => {
          if (!(error instanceof EtcdLeaseInvalidError)) {
            throw error; // A lease etcd does not know is revoked already.
          }
        }),
      signal,
    ).then(() => {
      this.#context.logger.debug(`revoked lease ${id}`);
    });
  }

  #grant(): void {
    if (this.#busy || this.#id !== undefined || this.#granting.waiting) {
      return;
    }
    this.#busy = true;
    const generation = this.#generation;
    const { client, logger } = this.#context;
    client.leaseClient.leaseGrant({ TTL: this.#ttlSeconds }).then(
      ({ ID: id }) => {
        if (generation !== this.#generation || this.#context.closing.aborted) {
          // Released (or closing) meanwhile: nobody will keep it alive; do not leave it for its TTL.
          this.#revoke(id, AbortSignal.abort()).catch(ignore);
          return;
        }
        this.#busy = false;
        this.#id = id;
        this.#granting.succeeded();
        this.#context.metrics.leaseGrants.add(1);
        const replacing = this.#lostAt !== undefined;
        if (this.#lostAt !== undefined) {
          logger.info(
            `granted lease ${id} ${Date.now() - this.#lostAt}ms after losing the last one`,
          );
          this.#lostAt = undefined;
        } else {
          logger.debug(`granted lease ${id}`, { ttlSeconds: this.#ttlSeconds });
        }
        this.#startRenewing(id);
        this.#waiters.splice(0).forEach((waiter) => waiter.resolve(id));
        if (replacing) {
          this.#replaced(id);
        }
      },
      (error: unknown) => {
        if (generation !== this.#generation) {
          return;
        }
        this.#busy = false;
        const fatal = this.#granting.failed(error, () => this.#grant());
        if (fatal !== undefined) {
          this.#waiters.splice(0).forEach((waiter) => waiter.reject(fatal));
        }
      },
    );
  }

  /** Sends a keepalive every third of the TTL, and gives the lease up once a whole TTL went unanswered. */
  #startRenewing(id: string): void {
    this.#renewedAt = Date.now();
    const periodMs = (this.#ttlSeconds * 1000) / 3;
    this.#ticker = setInterval(() => {
      if (Date.now() - this.#renewedAt >= this.#ttlSeconds * 1000) {
        this.#lost(
          new EtcdLeaseInvalidError(`${id} (no keepalive answered for ${this.#ttlSeconds}s)`),
        );
      } else if (this.#stream !== undefined) {
        this.#stream.write({ ID: id });
      } else if (!this.#renewing.waiting) {
        this.#openStream(id);
      }
    }, periodMs);
    this.#openStream(id);
  }

  #openStream(id: string): void {
    const generation = this.#generation;
    const { leaseClient } = this.#context.client;
    leaseClient.leaseKeepAlive().then(
      (stream) => {
        if (generation !== this.#generation || this.#id !== id) {
          stream.on('error', ignore);
          stream.end();
          return;
        }
        this.#stream = stream;
        stream.on('data', (response) => {
          if (response.TTL === '0') {
            this.#lost(new EtcdLeaseInvalidError(id));
            return;
          }
          this.#renewedAt = Date.now();
          if (!this.#streaming) {
            this.#streaming = true;
            this.#context.health.streamOpened();
          }
          this.#renewing.succeeded();
        });
        stream.on('error', (error) => this.#streamFailed(stream, id, error));
        stream.on('end', () =>
          this.#streamFailed(stream, id, new Error('the keepalive stream ended')),
        );
        stream.write({ ID: id });
      },
      (error: unknown) => this.#streamFailed(undefined, id, error),
    );
  }

  #streamFailed(stream: KeepAliveStream | undefined, id: string, error: unknown): void {
    if (stream !== this.#stream || this.#id !== id) {
      return;
    }
    this.#dropStream();
    const fatal = this.#renewing.failed(error, () => {
      if (this.#id === id && this.#stream === undefined) {
        this.#openStream(id);
      }
    });
    if (fatal !== undefined) {
      this.#lost(fatal);
    }
  }

  #lost(error: unknown): void {
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
    this.#lostAt = Date.now();
    this.#context.metrics.leaseLosses.add(1);
    this.#context.logger.info(`lease ${lostId} lost; granting a new one`, { cause: error });
    this.#grant();
  }

  #stopRenewing(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#renewing.cancel();
    this.#dropStream();
  }

  #dropStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    if (this.#streaming) {
      this.#streaming = false;
      this.#context.health.streamClosed();
    }
    if (stream !== undefined) {
      // Half-closed, not cancelled: etcd3 takes a cancelled stream for a failed member and resets
      // every channel to it (the watches' too). etcd ends it; the registry's close cancels what is left.
      stream.on('error', ignore);
      stream.end();
    }
  }
}
