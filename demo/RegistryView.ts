import { filter, firstValueFrom, merge, map, type Subscription, timeout } from 'rxjs';
import type { Endpoint, Registry } from '../lib';

/** The registry as the demo's narrator sees it: prints every change of the watched services' lists. */
export class RegistryView {
  readonly #registry: Registry;
  readonly #subscription: Subscription;

  constructor(registry: Registry, services: readonly string[], print: (line: string) => void) {
    this.#registry = registry;
    this.#subscription = merge(
      ...services.map((service) =>
        registry.endpoints$(service).pipe(map((endpoints) => ({ service, endpoints }))),
      ),
    ).subscribe(({ service, endpoints }) => {
      print(`[registry] ${service}: ${endpoints.map(describe).join(', ') || '(no endpoints)'}`);
    });
  }

  /** Resolves with the list once `predicate` holds for `service`'s endpoints; rejects after `ms`. */
  until(
    service: string,
    predicate: (endpoints: readonly Endpoint[]) => boolean,
    ms: number,
    what: string,
  ): Promise<readonly Endpoint[]> {
    return firstValueFrom(
      this.#registry.endpoints$(service).pipe(
        filter(predicate),
        timeout({
          first: ms,
          with: () => {
            throw new Error(`the demo expected ${what} within ${ms}ms, and it did not happen`);
          },
        }),
      ),
    );
  }

  close(): void {
    this.#subscription.unsubscribe();
  }
}

/** `data-access-1@127.0.0.1:40111`, and its state when it is not serving: `... (draining)` */
export function describe(endpoint: Endpoint): string {
  const instance = endpoint.metadata?.instance;
  const name = typeof instance === 'string' ? `${instance}@${endpoint.address}` : endpoint.address;
  return endpoint.state === undefined ? name : `${name} (${endpoint.state})`;
}

/** Whether the list holds `instance`. */
export function holds(instance: string): (endpoints: readonly Endpoint[]) => boolean {
  return (endpoints) => endpoints.some((endpoint) => endpoint.metadata?.instance === instance);
}
