import { EtcdLeaseInvalidError } from 'etcd3';
import { defer, filter, Observable, Subject, takeUntil } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { encodeMetadata } from '../endpoint/metadataCodec';
import { validateEndpoint } from '../endpoint/validateEndpoint';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdContext } from '../etcd/EtcdContext';
import type { EtcdOperation } from '../etcd/fatalError';
import { retryEtcd } from '../etcd/retryEtcd';
import type { KeyLayout } from '../keys/KeyLayout';
import type { PendingWork } from '../registry/PendingWork';
import type { Registration } from './Registration';
import { SharedLease } from './SharedLease';

const ALL = Symbol('all registrations');

/**
 * The registration half of a registry: endpoints' keys written on the registry's shared lease, rewritten
 * when the lease is replaced, and deleted (only while still ours) when their registration ends.
 * @internal
 */
export class Registrar {
  readonly #context: EtcdContext;
  readonly #layout: KeyLayout;
  readonly #pending: PendingWork;
  readonly #lease: SharedLease;
  readonly #closing: AbortSignal;
  readonly #ended = new Subject<string | typeof ALL>();
  /** Live registrations per key in this registry: the key is deleted when the last one ends. */
  readonly #holders = new Map<string, number>();
  /** The delete each key's last registration started, for `unregister` to await. */
  readonly #deletions = new Map<string, Promise<void>>();
  #closingAll = false;

  constructor(
    context: EtcdContext,
    layout: KeyLayout,
    leaseSeconds: number,
    pending: PendingWork,
    closing: AbortSignal,
  ) {
    this.#context = context;
    this.#layout = layout;
    this.#pending = pending;
    this.#closing = closing;
    this.#lease = new SharedLease(context, leaseSeconds, pending);
  }

  register(endpoint: Endpoint): Observable<Registration> {
    return defer(() => {
      const valid = validateEndpoint(endpoint);
      const key = this.#layout.endpointKey(valid.service, valid.address);
      if (this.#closing.aborted) {
        throw new RegistryClosedError(`register ${key}`);
      }
      return this.#hold(valid, key).pipe(
        takeUntil(this.#ended.pipe(filter((ended) => ended === key || ended === ALL))),
      );
    });
  }

  async unregister(endpoint: Pick<Endpoint, 'service' | 'address'>): Promise<void> {
    const valid = validateEndpoint({ service: endpoint.service, address: endpoint.address });
    const key = this.#layout.endpointKey(valid.service, valid.address);
    if (this.#holders.has(key)) {
      this.#ended.next(key); // Their teardowns start the ownership-checked delete.
      await this.#deletions.get(key);
      return;
    }
    const client = this.#context.client;
    await retryEtcd(
      this.#operation(key, `unregister ${key}`),
      () => client.delete().key(key).exec(),
      this.#context,
      this.#closing,
    );
  }

  /** Ends every registration; the lease's revocation, which deletes their keys, goes to the pending work. */
  close(): void {
    this.#closingAll = true;
    this.#ended.next(ALL);
    this.#ended.complete();
  }

  #hold(endpoint: Endpoint, key: string): Observable<Registration> {
    const { client, logger } = this.#context;
    const value = encodeMetadata(endpoint.metadata);
    return new Observable<Registration>((subscriber) => {
      this.#holders.set(key, (this.#holders.get(key) ?? 0) + 1);
      let leaseId: string | undefined;
      let writes = 0;
      let attempt: AbortController | undefined;
      let written: Promise<void> = Promise.resolve();

      const leases = this.#lease.lease$.subscribe({
        next: (id) => {
          attempt?.abort(); // A write on the lost lease is moot.
          const controller = new AbortController();
          attempt = controller;
          leaseId = id;
          const signal = AbortSignal.any([controller.signal, this.#closing]);
          const put = () =>
            client
              .put(key)
              .value(value)
              .lease(id)
              .exec()
              .catch((error: unknown) => {
                if (error instanceof EtcdLeaseInvalidError) {
                  controller.abort(); // Wait for the replacement lease instead.
                  this.#lease.invalidate(id);
                }
                throw error;
              });
          written = retryEtcd(this.#operation(key, `register ${key}`), put, this.#context, signal)
            .then(() => {
              if (!signal.aborted) {
                logger.debug(`registered ${key} on lease ${id}`);
                subscriber.next(
                  Object.freeze({ endpoint, key, leaseId: id, reregistered: writes++ > 0 }),
                );
              }
            })
            .catch((error: unknown) => {
              if (!signal.aborted) {
                subscriber.error(error);
              }
            });
        },
        error: (error: unknown) => subscriber.error(error),
      });

      return () => {
        attempt?.abort();
        const holders = (this.#holders.get(key) ?? 1) - 1;
        if (holders > 0) {
          this.#holders.set(key, holders);
          leases.unsubscribe();
          return; // Another registration of this key in this registry still wants it.
        }
        this.#holders.delete(key);
        leases.unsubscribe(); // The last registration out revokes the lease...
        if (this.#holders.size === 0) {
          // ...which deletes every key bound to it, this one included, in one request.
          this.#deletions.set(key, this.#lease.revocation);
          return;
        }
        if (this.#closingAll) {
          return; // The revocation at the end of close() deletes this key with the others.
        }
        const owner = leaseId;
        // Delete once the last write settled (it may land after this teardown), and only if the key
        // is still bound to our lease: another process may have registered the same address since.
        const deletion = written.then(async () => {
          if (owner !== undefined) {
            await this.#deleteIfOwned(key, owner);
          }
        });
        this.#deletions.set(key, deletion);
        this.#pending.track(
          deletion
            .catch((error: unknown) =>
              logger.warn(`could not deregister ${key}; it expires with lease ${owner ?? ''}`, {
                cause: error,
              }),
            )
            .finally(() => {
              if (this.#deletions.get(key) === deletion) {
                this.#deletions.delete(key);
              }
            }),
        );
      };
    });
  }

  async #deleteIfOwned(key: string, leaseId: string): Promise<void> {
    const { client, logger } = this.#context;
    const result = await retryEtcd(
      this.#operation(key, `deregister ${key}`),
      () => client.if(key, 'Lease', '==', leaseId).then(client.delete().key(key)).commit(),
      this.#context,
      this.#closing,
    );
    logger.debug(
      result.succeeded
        ? `deregistered ${key}`
        : `left ${key} alone: it is no longer bound to lease ${leaseId}`,
    );
  }

  #operation(key: string, description: string): EtcdOperation {
    return { key, username: this.#context.username, description };
  }
}
