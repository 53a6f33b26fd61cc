import type * as Grpc from '@grpc/grpc-js';
import { asapScheduler, distinctUntilChanged, map, observeOn, type Subscription } from 'rxjs';
import type { Registry } from '../registry/Registry';
import { serviceOfTarget } from './serviceOfTarget';
import { foldChanges } from '../discovery/foldChanges';
import { pickableEndpoints } from '../endpoint/EndpointState';
import { toGrpcEndpoints, type GrpcEndpoints } from './toGrpcEndpoints';

type GrpcJs = typeof Grpc;
type ResolverConstructor = Parameters<GrpcJs['experimental']['registerResolver']>[1];

/**
 * A grpc-js resolver class bound to one registry: each channel on a `gsr:///<service>` target gets an
 * instance that follows `registry.endpoints$(service)`.
 *
 * @internal
 */
export function gsrResolver(registry: Registry, grpc: GrpcJs): ResolverConstructor {
  const { experimental, status, Metadata } = grpc;
  // Once per address, not on every list that still holds it.
  const reported = new Set<string>();

  const serviceOf = (target: Grpc.experimental.GrpcUri): string =>
    serviceOfTarget(target, experimental.uriToString(target), (service) =>
      registry.validateService(service),
    );

  return class GsrResolver implements Grpc.experimental.Resolver {
    /**
     * The `:authority` of the channel's calls: the service, with every character a host name may not
     * hold as `-` (a target of etcd's naming layout may hold `/`; grpc-js connects to `http://<authority>`
     * and a server resets a stream whose authority holds one).
     */
    static getDefaultAuthority(target: Grpc.experimental.GrpcUri): string {
      return serviceOf(target).replace(/[^A-Za-z0-9._~-]/g, '-');
    }

    readonly #service: string;
    readonly #listener: Grpc.experimental.ResolverListener;
    #subscription: Subscription | undefined;

    constructor(target: Grpc.experimental.GrpcUri, listener: Grpc.experimental.ResolverListener) {
      this.#service = serviceOf(target);
      this.#listener = listener;
    }

    updateResolution(): void {
      // While subscribed, etcd pushes every change: a re-resolution request has nothing to add.
      if (this.#subscription !== undefined && !this.#subscription.closed) {
        return;
      }
      this.#subscription = registry
        .changes$(this.#service)
        .pipe(
          // What changed, folded into the whole list grpc-js's listener takes.
          foldChanges(),
          // New calls go where a Balancer would send them: serving endpoints, else draining ones.
          map((list) => toGrpcEndpoints(pickableEndpoints(list()), experimental.splitHostPort)),
          distinctUntilChanged(sameAddresses),
          // grpc-js forbids calling the listener synchronously from updateResolution, and the shared
          // list replays synchronously to a late subscriber.
          observeOn(asapScheduler),
        )
        .subscribe({
          next: (resolved) => {
            this.#report(resolved);
          },
          error: (error: unknown) => {
            this.#fail(`gsr cannot resolve service "${this.#service}": ${String(error)}`);
          },
          complete: () => {
            this.#fail(`gsr cannot resolve service "${this.#service}": its registry was closed`);
          },
        });
    }

    destroy(): void {
      this.#subscription?.unsubscribe();
      this.#subscription = undefined;
    }

    #report({ endpoints, unusable }: GrpcEndpoints): void {
      for (const address of unusable) {
        const key = `${this.#service}/${address}`;
        if (!reported.has(key)) {
          reported.add(key);
          registry.logger.warn(
            `gRPC resolver skips endpoint "${address}" of service "${this.#service}": not host:port`,
          );
        }
      }
      if (endpoints.length > 0) {
        this.#listener(experimental.statusOrFromValue(endpoints), {}, null, '');
        return;
      }
      // The empty list drops the connections to endpoints that went. On its own it leaves round_robin
      // (grpc-js 1.14) idle, queueing calls until their deadline; the error that follows, on a policy
      // with no endpoints, fails them at once with a reason (calls with waitForReady still wait).
      const note = `no live endpoints of gsr service "${this.#service}"`;
      this.#listener(experimental.statusOrFromValue([]), {}, null, note);
      this.#fail(note);
    }

    #fail(details: string): void {
      const error = { code: status.UNAVAILABLE, details, metadata: new Metadata() };
      this.#listener(experimental.statusOrFromError(error), {}, null, details);
    }
  };
}

function sameAddresses(previous: GrpcEndpoints, current: GrpcEndpoints): boolean {
  return previous.usable.join(' ') === current.usable.join(' ');
}
