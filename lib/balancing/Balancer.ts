import type { Observable, Subscription } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { createPicker } from './createPicker';
import type { Picker, Strategy } from './Strategy';

/**
 * A synchronous `pick()` over a live endpoint list, for imperative code that cannot be a pipeline
 * (a request handler, a connection pool). It subscribes to `endpoints$` when constructed and keeps the
 * latest list until {@link Balancer.close}.
 *
 * @example
 * ```ts
 * const balancer = new Balancer(registry.endpoints$('data-access'));
 * app.get('/data', async (req, res) => {
 *   const endpoint = balancer.pick();
 *   if (!endpoint) return res.status(503).end();
 *   res.json(await (await fetch(`http://${endpoint.address}/data`)).json());
 * });
 * // on shutdown:
 * balancer.close();
 * ```
 */
export class Balancer<T = undefined> {
  readonly #pick: Picker<T>;
  readonly #subscription: Subscription;
  #endpoints: readonly Endpoint[] = [];

  constructor(
    endpoints$: Observable<readonly Endpoint[]>,
    options: { readonly strategy?: Strategy<T> } = {},
  ) {
    this.#pick = createPicker(options.strategy);
    this.#subscription = endpoints$.subscribe({
      next: (list) => (this.#endpoints = list),
      // A list that failed is no list: pick() says so rather than serving a stale one.
      error: () => (this.#endpoints = []),
    });
  }

  /** The latest list. */
  get endpoints(): readonly Endpoint[] {
    return this.#endpoints;
  }

  /** An endpoint from the latest list, by the strategy; `undefined` while the list is empty. */
  pick(value?: T): Endpoint | undefined {
    return this.#endpoints.length === 0 ? undefined : this.#pick(this.#endpoints, value as T);
  }

  /** Unsubscribes from the list. */
  close(): void {
    this.#subscription.unsubscribe();
    this.#endpoints = [];
  }
}
