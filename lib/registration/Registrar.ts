import { EtcdLeaseInvalidError } from 'etcd3';
import { defer, Observable, type Subscriber } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdContext } from '../etcd/EtcdContext';
import type { EtcdOperation } from '../etcd/classifyEtcdError';
import { retryEtcd } from '../etcd/retryEtcd';
import type { KeyLayout } from '../keys/KeyLayout';
import type { PendingWork } from '../etcd/PendingWork';
import { PutBatcher } from './PutBatcher';
import type { Registration } from './Registration';
import { SharedLease } from './SharedLease';

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
  readonly #puts: PutBatcher;
  readonly #closing: AbortSignal;
  /** The live registrations of each key in this registry: the key is deleted when the last one ends. */
  readonly #holders = new Map<string, Set<Subscriber<Registration>>>();
  /** The delete each key's last registration started, for `unregister` to await. */
  readonly #deletions = new Map<string, Promise<void>>();
  #closingAll = false;

  constructor(context: EtcdContext, layout: KeyLayout, leaseSeconds: number, pending: PendingWork) {
    this.#context = context;
    this.#layout = layout;
    this.#pending = pending;
    this.#closing = context.closing;
    this.#lease = new SharedLease(context, leaseSeconds, pending);
    this.#puts = new PutBatcher(context);
  }

  register(endpoint: Endpoint): Observable<Registration> {
    return defer(() => {
      const valid = this.#layout.validateEndpoint(endpoint);
      const key = this.#layout.endpointKey(valid);
      if (this.#closing.aborted) {
        throw new RegistryClosedError(`register ${key}`);
      }
      return this.#hold(valid, key);
    });
  }

  async unregister(endpoint: Pick<Endpoint, 'service' | 'address'>): Promise<void> {
    const valid = this.#layout.validateEndpoint({
      service: endpoint.service,
      address: endpoint.address,
    });
    const key = this.#layout.endpointKey(valid);
    const holders = this.#holders.get(key);
    if (holders !== undefined) {
      // Completing them runs their teardowns, the last of which starts the ownership-checked delete.
      [...holders].forEach((holder) => holder.complete());
      await this.#deletions.get(key);
      return;
    }
    const client = this.#context.client;
    await retryEtcd(
      this.#context,
      this.#operation(key, `unregister ${key}`),
      () => client.delete().key(key).exec(),
      this.#closing,
    );
  }

  /** Ends every registration; the lease's revocation, which deletes their keys, goes to the pending work. */
  close(): void {
    this.#closingAll = true;
    for (const holders of [...this.#holders.values()]) {
      [...holders].forEach((holder) => holder.complete());
    }
  }

  #hold(endpoint: Endpoint, key: string): Observable<Registration> {
    const { logger } = this.#context;
    const value = this.#layout.encodeValue(endpoint);
    return new Observable<Registration>((subscriber) => {
      const holders = this.#holders.get(key) ?? new Set();
      holders.add(subscriber);
      this.#holders.set(key, holders);
      let leaseId: string | undefined;
      let writes = 0;
      /** Aborts the write in flight, if any: a new lease or the end of the registration makes it moot. */
      let inFlight: AbortController | undefined;
      let written: Promise<void> = Promise.resolve();

      const leases = this.#lease.lease$.subscribe({
        next: (id) => {
          inFlight?.abort();
          const controller = new AbortController();
          inFlight = controller;
          leaseId = id;
          const put = () =>
            this.#puts.put(key, value, id).catch((error: unknown) => {
              if (error instanceof EtcdLeaseInvalidError) {
                controller.abort(); // Wait for the replacement lease instead.
                this.#lease.invalidate(id);
              }
              throw error;
            });
          const operation = this.#operation(key, `register ${key}`);
          written = retryEtcd(this.#context, operation, put, controller.signal).then(
            () => {
              if (inFlight === controller) {
                inFlight = undefined;
                if (logger.isDebugEnabled()) {
                  logger.debug(`registered ${key} on lease ${id}`);
                }
                subscriber.next(
                  Object.freeze({ endpoint, key, leaseId: id, reregistered: writes++ > 0 }),
                );
              }
            },
            (error: unknown) => {
              if (inFlight === controller) {
                inFlight = undefined;
                subscriber.error(error);
              }
            },
          );
        },
        error: (error: unknown) => subscriber.error(error),
      });

      return () => {
        inFlight?.abort();
        inFlight = undefined;
        holders.delete(subscriber);
        leases.unsubscribe(); // The last registration of the registry out revokes the lease.
        if (holders.size > 0) {
          return; // Another registration of this key in this registry still wants it.
        }
        this.#holders.delete(key);
        const owner = leaseId;
        // Decide a tick later: when every registration leaves at once (a shutdown), the lease's
        // revocation deletes all their keys in one request, and none needs a delete of its own.
        const deletion = Promise.resolve().then(async () => {
          if (this.#holders.size === 0 || this.#closingAll) {
            await this.#lease.revocation;
            return;
          }
          // Once the last write settled (it may land after this teardown), and only if the key is
          // still bound to our lease: another process may have registered the same address since.
          await written;
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
      this.#context,
      this.#operation(key, `deregister ${key}`),
      () => client.if(key, 'Lease', '==', leaseId).then(client.delete().key(key)).commit(),
      this.#closing,
    );
    if (logger.isDebugEnabled()) {
      logger.debug(
        result.succeeded
          ? `deregistered ${key}`
          : `left ${key} alone: it is no longer bound to lease ${leaseId}`,
      );
    }
  }

  #operation(key: string, description: string): EtcdOperation {
    return { key, description };
  }
}
