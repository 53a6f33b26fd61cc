import { finalize, type Observable, ReplaySubject, share, tap, throwError, timer } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { validateServiceName } from '../endpoint/validateEndpoint';
import { EtcdUnavailableError } from '../errors/EtcdUnavailableError';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import type { EtcdContext } from '../etcd/EtcdContext';
import type { KeyLayout } from '../keys/KeyLayout';
import { EndpointList } from './EndpointList';
import { liveView } from './liveView';
import type { KeyValue } from './PrefixUpdate';
import { ServiceNames } from './ServiceNames';
import { watchPrefix } from './watchPrefix';

/** A shared stream, and the value it last emitted while someone was subscribed. */
interface LiveView<T> {
  readonly stream$: Observable<T>;
  readonly cache: { current?: T | undefined };
}

/**
 * The discovery half of a registry: one shared, live stream per service (and one of service names), and
 * one-off lists served from those streams when they are live.
 * @internal
 */
export class Discovery {
  readonly #context: EtcdContext;
  readonly #layout: KeyLayout;
  readonly #gracePeriodMs: number;
  readonly #services = new Map<string, LiveView<readonly Endpoint[]>>();
  readonly #names: LiveView<readonly string[]>['cache'] = {};
  #names$: Observable<readonly string[]> | undefined;

  constructor(context: EtcdContext, layout: KeyLayout, gracePeriodMs: number) {
    this.#context = context;
    this.#layout = layout;
    this.#gracePeriodMs = gracePeriodMs;
  }

  endpoints$(service: string): Observable<readonly Endpoint[]> {
    try {
      validateServiceName(service);
    } catch (error) {
      return throwError(() => error);
    }
    let live = this.#services.get(service);
    if (live === undefined) {
      const cache: LiveView<readonly Endpoint[]>['cache'] = {};
      const list$ = liveView(
        watchPrefix(this.#layout.servicePrefix(service), this.#context),
        () => new EndpointList(service, this.#layout, this.#context.logger),
      ).pipe(
        tap((list) => (cache.current = list)),
        finalize(() => (cache.current = undefined)),
      );
      live = { stream$: this.#shared(list$), cache };
      this.#services.set(service, live);
    }
    return live.stream$;
  }

  services$(): Observable<readonly string[]> {
    this.#names$ ??= this.#shared(
      liveView(
        watchPrefix(this.#layout.servicesPrefix, this.#context),
        () => new ServiceNames(this.#layout, this.#context.logger),
      ).pipe(
        tap((names) => (this.#names.current = names)),
        finalize(() => (this.#names.current = undefined)),
      ),
    );
    return this.#names$;
  }

  async services(): Promise<readonly string[]> {
    const live = this.#names.current;
    if (live !== undefined) {
      return live;
    }
    const names = new ServiceNames(this.#layout, this.#context.logger);
    names.reset(await this.#range(this.#layout.servicesPrefix, 'list services'));
    return names.snapshot();
  }

  async endpoints(service: string): Promise<readonly Endpoint[]> {
    validateServiceName(service);
    const live = this.#services.get(service)?.cache.current;
    if (live !== undefined) {
      return live;
    }
    const list = new EndpointList(service, this.#layout, this.#context.logger);
    list.reset(
      await this.#range(this.#layout.servicePrefix(service), `list endpoints of "${service}"`),
    );
    return list.snapshot();
  }

  /** Everything under `prefix`, with one range get; typed errors, never retried. */
  async #range(prefix: string, operation: string): Promise<readonly KeyValue[]> {
    if (this.#context.closing.aborted) {
      throw new RegistryClosedError(operation);
    }
    try {
      const range = await this.#context.client.getAll().prefix(prefix).exec();
      this.#context.succeeded();
      return range.kvs;
    } catch (error) {
      throw (
        this.#context.failed(error, { key: prefix, description: operation }) ??
        new EtcdUnavailableError(operation, error)
      );
    }
  }

  /**
   * Shares one subscription of `source$` between every subscriber, replaying the latest value to late
   * ones. When the last subscriber leaves, the source is kept for the grace period, so that a quick
   * re-subscription (a retry, a `switchMap`) finds it warm; an error or the registry's close (which
   * completes the source) resets it, and a later subscriber then starts afresh (or, after close, gets a
   * `RegistryClosedError`).
   */
  #shared<T>(source$: Observable<T>): Observable<T> {
    return source$.pipe(
      share({
        connector: () => new ReplaySubject<T>(1),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: () => timer(this.#gracePeriodMs),
      }),
    );
  }
}
