import { EtcdLeaseInvalidError, type Lease } from 'etcd3';
import { Observable, ReplaySubject, share, Subject } from 'rxjs';
import type { EtcdContext } from '../etcd/EtcdContext';
import { Retrier } from '../etcd/Retrier';
import type { PendingWork } from '../etcd/PendingWork';

/**
 * The one lease a registry binds its endpoints' keys to, kept alive by one keepalive stream however many
 * endpoints it holds.
 *
 * `lease$` grants it when its first subscriber arrives and revokes it when the last one leaves (which
 * deletes every key still bound to it). When the lease is lost (expired during a partition or a long
 * pause, revoked behind gsr's back, or gone with etcd's data) it grants a new one as soon as etcd answers,
 * retrying with backoff, and emits the new id: subscribers rewrite their keys on it.
 * @internal
 */
export class SharedLease {
  /** The current lease id; a new one after each loss. Errors only on what retrying cannot fix. */
  readonly lease$: Observable<string>;
  readonly #invalid = new Subject<string>();
  #revocation: Promise<void> = Promise.resolve();

  constructor(context: EtcdContext, ttlSeconds: number, pending: PendingWork) {
    const { client, logger, health } = context;
    const operation = { key: '(lease)', description: 'grant a lease' };

    const source$ = new Observable<string>((subscriber) => {
      let lease: Lease | undefined;
      let id: string | undefined;
      const retrier = new Retrier(context, operation);
      let lostAt: number | undefined;
      /** Whether a keepalive stream counts as open for health. */
      let streaming = false;
      const stopStreaming = (): void => {
        if (streaming) {
          streaming = false;
          health.streamClosed();
        }
      };

      const grant = (): void => {
        const next = client.lease(ttlSeconds);
        lease = next;
        id = undefined;
        next.on('lost', (error) => lost(next, error));
        next.on('keepaliveSucceeded', () => health.up());
        next.on('keepaliveEstablished', () => {
          if (!streaming) {
            streaming = true;
            health.streamOpened();
          }
        });
        next.on('keepaliveFailed', (error) => {
          if (!(error instanceof EtcdLeaseInvalidError)) {
            health.down(error); // A lease etcd no longer knows is not a connection problem.
          }
        });
        next.grant().then((granted) => {
          if (lease !== next) {
            return;
          }
          id = granted;
          retrier.succeeded();
          if (lostAt !== undefined) {
            logger.info(
              `granted lease ${granted} ${Date.now() - lostAt}ms after losing the last one`,
            );
            lostAt = undefined;
          } else {
            logger.debug(`granted lease ${granted}`, { ttlSeconds });
          }
          subscriber.next(granted);
        }, ignore); // A failed grant is reported as 'lost' too.
      };

      const lost = (which: Lease, error: unknown): void => {
        if (which !== lease) {
          return;
        }
        const lostId = id;
        stopStreaming();
        which.removeAllListeners();
        which.release();
        lease = undefined;
        id = undefined;
        const fatal = retrier.failed(error, grant);
        if (fatal !== undefined) {
          subscriber.error(fatal);
          return;
        }
        if (lostAt === undefined) {
          lostAt = Date.now();
          logger.info(`lease ${lostId ?? '(not yet granted)'} lost; granting a new one`, {
            cause: error,
          });
        } else {
          logger.debug('could not grant a lease yet; retrying', { cause: error });
        }
      };

      const invalidated = this.#invalid.subscribe((bad) => {
        if (lease !== undefined && bad === id) {
          lost(lease, new EtcdLeaseInvalidError(bad));
        }
      });

      grant();
      return () => {
        invalidated.unsubscribe();
        retrier.cancel();
        stopStreaming();
        const held = lease;
        lease = undefined;
        if (held !== undefined) {
          held.removeAllListeners();
          this.#revocation = held.revoke().then(
            () => {
              logger.debug(`revoked lease ${id ?? '(not yet granted)'}`);
            },
            (error: unknown) => {
              logger.warn(`could not revoke lease ${id ?? ''}; it expires after its TTL`, {
                cause: error,
                ttlSeconds,
              });
            },
          );
          pending.track(this.#revocation);
        }
      };
    });

    this.lease$ = source$.pipe(
      share({
        connector: () => new ReplaySubject<string>(1),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: true,
      }),
    );
  }

  /**
   * The revocation the last subscriber's departure started (settled, never rejected): it deleted every
   * key still bound to the lease.
   */
  get revocation(): Promise<void> {
    return this.#revocation;
  }

  /** Reports that etcd no longer knows lease `id` (a write said so): replace it now. */
  invalidate(id: string): void {
    this.#invalid.next(id);
  }
}

function ignore(): void {
  // Handled elsewhere.
}
