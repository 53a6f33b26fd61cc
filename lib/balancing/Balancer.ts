import {
  BehaviorSubject,
  map,
  type Observable,
  Subject,
  type Subscription,
  takeUntil,
  startWith,
} from 'rxjs';
import type { Logger } from 'winston';
import { declaredWeight } from '../endpoint/declaredWeight';
import type { Endpoint } from '../endpoint/Endpoint';
import { endpointState } from '../endpoint/EndpointState';
import { changesBetween } from '../discovery/listChanges';
import { listedService } from '../endpoint/listedService';
import { showValue } from '../errors/showValue';
import { defaultLogger } from '../logging/defaultLogger';
import { OnceLog } from '../logging/OnceLog';
import { BalancerMetrics } from '../metrics/BalancerMetrics';
import { gsrMeter } from '../metrics/instruments';
import { hasBrand } from '../errors/hasBrand';
import { escapeText } from '../text/escapeText';
import { type Attempt, recordAttempts } from './attemptsOf';
import {
  type BalancerOptions,
  type CallOptions,
  type Outcome,
  validateBalancerOptions,
  validateCallOptions,
  validateOutcome,
} from './BalancerOptions';
import { RetryPolicy } from './RetryPolicy';
import { createChooser } from './createChooser';
import { EndpointPool } from './EndpointPool';
import { DEFAULT_WRR, type WrrPolicy } from './LoadWeight';
import type { OrcaReport } from '../orca/OrcaReport';
import { readOrcaReport } from '../orca/orcaCodec';
import { localityPolicy } from '../locality/LocalityPolicy';
import type { ZoneRouting } from '../locality/zoneRouting';
import { EndpointWait } from './EndpointWait';
import type { EndpointRecord, LatencyPolicy } from './EndpointRecord';
import { type EndpointStats, statsOf } from './EndpointStats';
import { OutlierEjection } from './OutlierEjection';
import { type Clock, systemClock } from '../etcd/Clock';
import { ticks } from '../etcd/ticks';
import { isConnectionRefused } from './isRetryableError';
import { subsetted } from './subsetted';

/**
 * Spreads work over a live endpoint list and learns from every call's outcome which endpoints answer,
 * and how fast, while the list itself still comes from etcd:
 *
 * - **calls**: {@link Balancer.call} picks an endpoint, runs your call on it, and records the outcome
 *   (success or failure, latency, calls in flight); {@link Balancer.report} records the outcome of a
 *   call you made yourself after {@link Balancer.pick};
 * - **retries** on an endpoint not tried yet, when a call failed before reaching it (refused, reset,
 *   timed out before an answer), up to `retries`, within a retry budget (20 % of calls over 10 s, plus
 *   10 a second), so that an outage does not become a retry storm;
 * - **outlier ejection**: after 3 failures in a row (at once for a refused connection) an endpoint
 *   is left out for 2 s, doubling with each ejection up to 60 s, then gets one trial call; never more
 *   than half the list is ejected, and when nothing may be picked every endpoint may (panic mode);
 * - **strategies**: round-robin, random, least-outstanding and latency (both power of two choices),
 *   all weighted by `metadata.weight`, with zone affinity (`zone`).
 *
 * It subscribes to `endpoints$` when constructed and keeps the latest list until {@link Balancer.close};
 * an endpoint that leaves the list forgets what was learnt of it.
 *
 * @example
 * ```ts
 * const balancer = new Balancer(registry.endpoints$('data-access'), { strategy: 'latency' });
 * app.get('/data', async (req, res) => {
 *   const answer = await balancer.call((endpoint, signal) =>
 *     fetch(`http://${endpoint.address}/data`, { signal }).then((r) => r.json()),
 *   );
 *   res.json(answer);
 * });
 * // on shutdown:
 * balancer.close();
 * ```
 */
export class Balancer<T = unknown> {
  readonly #retry: RetryPolicy;
  /** The strategy's chooser, wrapped by outlier ejection. */
  readonly #ejection: OutlierEjection<T>;
  readonly #latency: LatencyPolicy;
  /** How load reports become weights (weighted round robin). */
  readonly #wrr: WrrPolicy;
  readonly #clock: Clock;
  /** What a call's latency is measured with: the clock given, else the finer `performance`. */
  readonly #stopwatch: { now(): number };
  /** The service of the list, when it says (a registry's `endpoints$`) or once one endpoint did. */
  #service: string | undefined;
  /** Calls waiting for an endpoint. */
  readonly #waits: EndpointWait;
  #closed = false;
  /** The logger given, else gsr's default one, built only when something is logged. */
  readonly #givenLogger: Logger | undefined;
  readonly #metrics: BalancerMetrics;
  #onceLog: OnceLog | undefined;
  /** Brands it for {@link isBalancer}: true across copies of gsr, where `instanceof` is not. */
  readonly isGsrBalancer = true;
  /** Every endpoint of the latest list, by address, and the candidate sets picks draw from. */
  readonly #pool: EndpointPool;
  /** The latest list (this client's subset of it, with subsetting). */
  #list: readonly Endpoint[] = [];
  /** With subsetting: each endpoint of the subset's share of its weight, in (0, 1]. */
  #factors: ReadonlyMap<string, number> | undefined;
  readonly #list$ = new BehaviorSubject<readonly Endpoint[]>([]);
  /** With subsetting: whether `peers$` has given a list (until then, there is no subset). */
  #peersKnown = false;
  readonly #closed$ = new Subject<void>();
  readonly #subscription: Subscription;

  constructor(endpoints$: Observable<readonly Endpoint[]>, options: BalancerOptions<T> = {}) {
    validateBalancerOptions(options);
    const outlier = options.outlier === false ? undefined : (options.outlier ?? {});
    this.#clock = options.clock ?? systemClock;
    this.#wrr = { ...DEFAULT_WRR, ...definedOnly(options.weightedRoundRobin ?? {}) };
    this.#stopwatch = options.clock ?? performance;
    this.#latency = {
      decayMs: options.latency?.decayMs ?? 10_000,
      defaultMs: options.latency?.defaultMs ?? 5,
    };
    this.#ejection = new OutlierEjection(
      outlier && {
        consecutiveFailures: outlier.consecutiveFailures ?? 3,
        baseEjectionMs: outlier.baseEjectionMs ?? 2000,
        maxEjectionMs: outlier.maxEjectionMs ?? 60_000,
        maxEjectionPercent: outlier.maxEjectionPercent ?? 50,
      },
      createChooser(options.strategy, this.#latency, () => this.#clock.random(), this.#wrr),
    );
    this.#retry = new RetryPolicy(options, (message) => this.#warnings.warn(message));
    const locality = options.locality ?? {};
    this.#pool = new EndpointPool(
      {
        caller: { zone: locality.zone ?? options.zone, region: locality.region },
        zoneAware: locality.callers$ !== undefined,
        policy: localityPolicy(locality, 'locality'),
        warn: (message) => this.#warnings.warn(message),
      },
      options.slowStart,
      (endpoint) => this.#weightOf(endpoint),
      (set) => this.#ejection.ejectedIn(set),
      () => this.#ejection.epoch,
    );
    this.#waits = new EndpointWait({
      list$: this.#list$,
      timeoutMs: options.timeout ?? DEFAULT_WAIT_MS,
      clock: this.#clock,
      service: () => this.#service,
      waitingFor: () =>
        options.subset !== undefined && !this.#peersKnown
          ? "subset.peers$ to give this client's peers (it has given none yet)"
          : undefined,
      closed: () => this.#closed,
      logger: () => this.#logger,
    });
    this.#service = listedService(endpoints$);
    this.#givenLogger = options.logger;
    this.#metrics = new BalancerMetrics(
      gsrMeter(options.meterProvider),
      options.endpointMetrics === true,
      listedService(endpoints$),
    );
    const source$ = subsetted(
      endpoints$,
      options.subset,
      () => (this.#peersKnown = true),
      (message) => this.#warnings.warn(message),
    );
    this.#subscription = source$.subscribe({
      next: ({ list, factors }) => this.#update(list, factors),
      error: (error: unknown) => {
        // A list that failed is no list: nothing is picked from a stale one.
        this.#update([]);
        this.#list$.error(error);
      },
      complete: () => this.#list$.complete(),
    });
    if (locality.callers$ !== undefined) {
      this.#subscription.add(
        locality.callers$.subscribe({
          next: (callers: readonly Endpoint[]) => this.#pool.setCallers(callers),
          // Without its callers' list the caller cannot weigh zones: plain priorities from then on.
          error: (error: unknown) => {
            this.#warnings.warn(
              `balancer: locality.callers$ failed (${escapeText(String(error), 200)}): zone-aware routing is off`,
            );
            this.#pool.setCallers(undefined);
          },
        }),
      );
    }
  }

  get #logger(): Logger {
    return this.#givenLogger ?? defaultLogger();
  }

  get #warnings(): OnceLog {
    this.#onceLog ??= new OnceLog(this.#logger);
    return this.#onceLog;
  }

  /** The latest list. */
  get endpoints(): readonly Endpoint[] {
    return this.#list$.value;
  }

  /**
   * The latest list, and each new one; errors and completes with the list it was given.
   * @internal
   */
  get list$(): Observable<readonly Endpoint[]> {
    return this.#list$;
  }

  /**
   * An endpoint from the latest list, by the strategy, among those that may be picked now (serving, or
   * draining or failing when none is; not ejected; in the zone while it has enough of them);
   * `undefined` while none may. It records nothing:
   * report the call's outcome with {@link Balancer.report}, or use {@link Balancer.call}.
   *
   * @example
   * ```ts
   * const endpoint = balancer.pick();
   * if (endpoint === undefined) return res.status(503).end();
   * ```
   */
  pick(value?: T): Endpoint | undefined {
    return this.#pickNow(value as T, undefined)?.endpoint;
  }

  /**
   * Picks an endpoint, runs `fn(endpoint, signal)` on it and resolves or rejects with what `fn` gave,
   * recording the outcome: its latency, and whether it failed (which, repeated, ejects the endpoint).
   * A failure that {@link BalancerOptions.retryable} accepts is retried on an endpoint not tried yet, up
   * to `retries` times, while the retry budget allows; the error a call rejects with is its last
   * attempt's, and `attemptsOf(error)` lists every attempt with its endpoint. While the list is empty the
   * call waits (up to `timeout`, then `NoEndpointError`). Aborting `signal` aborts the attempt in flight
   * (`fn` gets it) and stops there; an aborted call does not count against the endpoint.
   *
   * @example
   * ```ts
   * const user = await balancer.call(async (endpoint, signal) => {
   *   const response = await fetch(`http://${endpoint.address}/users/7`, { signal });
   *   if (!response.ok) throw new Error(`HTTP ${response.status}`);
   *   return response.json();
   * });
   * ```
   */
  async call<R>(
    fn: (
      endpoint: Endpoint,
      signal: AbortSignal,
      /** Gives the balancer the server's load report of this attempt (weighted round robin weighs by it). */
      load: (report: OrcaReport | string | Uint8Array) => void,
    ) => Promise<R>,
    options: CallOptions<T> = NO_CALL_OPTIONS,
  ): Promise<R> {
    if (options !== NO_CALL_OPTIONS) {
      validateCallOptions(options);
    }
    const { signal } = options;
    signal?.throwIfAborted();
    this.#retry.called(this.#clock.now());
    const attempts: Attempt[] = [];
    const tried = new Set<EndpointRecord>();
    for (;;) {
      // Picked and counted in flight in the same tick: calls started together must see each other.
      const record =
        this.#pickNow(options.value as T, tried) ??
        (await this.#waits.until(() => this.#pickNow(options.value as T, tried), signal));
      signal?.throwIfAborted();
      tried.add(record);
      const started = this.#stopwatch.now();
      record.started();
      this.#ejection.started(record, this.#clock.now());
      try {
        // A signal of its own when the caller gave none: a shared one would collect the listeners that
        // each call's fetch adds to it, until GC (695 after 1,000 fetches). It costs ~2 µs a call.
        const result = await fn(record.endpoint, signal ?? new AbortController().signal, (load) =>
          this.#load(record, load),
        );
        this.#succeeded(record, this.#stopwatch.now() - started, true);
        return result;
      } catch (error) {
        if (signal?.aborted === true) {
          record.abandoned(); // The caller's doing, not the endpoint's.
          this.#ejection.abandoned(record);
          recordAttempts(error, [...attempts, { endpoint: record.endpoint, error }]);
          throw error;
        }
        this.#failed(record, error, this.#stopwatch.now() - started, true);
        attempts.push({ endpoint: record.endpoint, error });
        const untried = () => this.#untried(tried);
        if (!this.#retry.retries(error, attempts.length, untried, this.#clock.now(), options)) {
          recordAttempts(error, attempts);
          throw error;
        }
        this.#metrics.retried(record.endpoint);
      }
    }
  }

  /** How many candidates a retry may go to: those not tried (one tried may have left them since). */
  #untried(tried: ReadonlySet<EndpointRecord>): number {
    const candidates = this.#pool.fallback(this.#clock.now());
    let left = candidates.size;
    for (const record of tried) {
      left -= candidates.has(record) ? 1 : 0;
    }
    return left;
  }

  /**
   * How new calls are spread now by the locality policy: each priority level's load (whole percents,
   * Envoy's priority load), which levels are in panic, how the first level spreads over zones, and each
   * group of serving endpoints (a priority in a zone) with its share of calls. While no endpoint serves,
   * calls go to the draining ones, else the failing ones, and the plan is empty.
   *
   * @example
   * ```ts
   * const { load, routing } = balancer.locality();
   * console.log(`priority 0 takes ${load[0]} %, zone routing: ${routing.kind}`);
   * ```
   */
  locality(): BalancerLocalityView {
    const { plan, groups } = this.#pool.plan();
    return {
      levels: plan.levels,
      load: plan.load.load,
      panic: plan.load.panic,
      routing: plan.routing,
      groups: groups.map((group, at) => ({
        priority: group.priority,
        zone: group.zone === '' ? undefined : group.zone,
        healthy: group.healthy,
        total: group.total,
        share: plan.shares[at]?.share ?? 0,
        panic: plan.shares[at]?.panic ?? false,
      })),
    };
  }

  /**
   * Records the outcome of a call made on `endpoint` without {@link Balancer.call} (after
   * {@link Balancer.pick}), so that ejection and the latency strategy learn from it too. An endpoint no
   * longer in the list is ignored.
   *
   * @example
   * ```ts
   * const endpoint = balancer.pick();
   * const started = performance.now();
   * try {
   *   await grpcCall(endpoint);
   *   balancer.report(endpoint, { ok: true, latencyMs: performance.now() - started });
   * } catch (error) {
   *   balancer.report(endpoint, { ok: false, error });
   * }
   * ```
   */
  report(endpoint: Endpoint, outcome: Outcome): void {
    validateOutcome(outcome);
    const record = this.#pool.get(endpoint.address);
    if (record === undefined) {
      return;
    }
    if (outcome.load !== undefined) {
      this.#load(record, outcome.load);
    }
    if (outcome.ok) {
      this.#succeeded(record, outcome.latencyMs, false);
    } else {
      this.#failed(record, outcome.error, outcome.latencyMs, false);
    }
  }

  /** A load report of `record`'s server: as sent (bytes, base64) it is read as untrusted. */
  #load(record: EndpointRecord, load: OrcaReport | string | Uint8Array): void {
    const report =
      typeof load === 'string' || load instanceof Uint8Array
        ? readOrcaReport(load, (message) =>
            this.#warnings.warn(`balancer: ${record.endpoint.address} sent ${message}`),
          )
        : load;
    if (report !== undefined) {
      record.loadWeight.update(report, this.#clock.now(), this.#wrr);
    }
  }

  /**
   * What the balancer knows of each endpoint of the latest list: calls in flight, successes, failures,
   * latency, weight and ejection, for a service to log or export.
   *
   * @example
   * ```ts
   * for (const s of balancer.stats()) {
   *   console.log(s.endpoint.address, s.inFlight, s.latencyMs, s.ejected ? 'ejected' : 'in');
   * }
   * ```
   */
  stats(): readonly EndpointStats[] {
    const now = this.#clock.now();
    const records = new Set<EndpointRecord>(); // Once each, in list order.
    for (const endpoint of this.#list) {
      const record = this.#pool.get(endpoint.address);
      if (record !== undefined) {
        records.add(record);
      }
    }
    return [...records].map((record) => statsOf(record, now, this.#latency));
  }

  /**
   * {@link Balancer.stats} every `intervalMs` (at once first), until {@link Balancer.close}.
   *
   * @example
   * ```ts
   * balancer.stats$(10_000).subscribe((stats) => logger.info('balancer', { stats }));
   * ```
   */
  stats$(intervalMs = 1000): Observable<readonly EndpointStats[]> {
    return ticks(this.#clock, intervalMs).pipe(
      startWith(0),
      map(() => this.stats()),
      takeUntil(this.#closed$),
    );
  }

  /** Unsubscribes from the list; calls waiting for an endpoint reject with a `NoEndpointError`. */
  close(): void {
    this.#closed = true;
    this.#subscription.unsubscribe();
    this.#update([]);
    this.#list$.complete();
    this.#closed$.next();
    this.#closed$.complete();
  }

  #update(list: readonly Endpoint[], factors?: ReadonlyMap<string, number>): void {
    this.#service ??= list[0]?.service;
    const before = this.#factors;
    this.#factors = factors;
    // What changed, by address: O(changes) for a registry's list, one comparison for another.
    const now = this.#clock.now();
    this.#pool.apply(changesBetween(this.#list, list), now);
    if (before !== undefined && factors !== undefined) {
      // A subset's edges moved: the endpoints still in it whose share changed are weighed again.
      const updated = list.filter((e) => before.get(e.address) !== factors.get(e.address));
      this.#pool.apply({ added: [], removed: [], updated }, now);
    }
    this.#list = list;
    if (!this.#list$.closed) {
      this.#list$.next(list);
    }
  }

  /**
   * `metadata.weight`: a positive finite number, else 1 (logged once when it is something else); times
   * its share of this client's subset.
   */
  #weightOf(endpoint: Endpoint): number {
    return this.#declaredWeightOf(endpoint) * (this.#factors?.get(endpoint.address) ?? 1);
  }

  #declaredWeightOf(endpoint: Endpoint): number {
    const weight = declaredWeight(endpoint);
    if (weight === undefined && endpoint.metadata?.weight !== undefined) {
      this.#warnings.warn(
        `endpoint ${escapeText(endpoint.address)} of "${escapeText(endpoint.service)}" has metadata.weight ${showValue(endpoint.metadata.weight, 40)}, not a positive number: treated as 1`,
      );
    }
    return weight ?? 1;
  }

  /**
   * A record a new call may go to now, by the strategy: from the pool's candidates (a group drawn by
   * the locality plan while any endpoint serves; else the best state that has any), not ejected nor on
   * a trial call, not in `tried`; when none may, any candidate not tried (panic mode). A retry whose
   * group has none left goes to any candidate of the best state. `undefined` when there is none.
   */
  #pickNow(value: T, tried: ReadonlySet<EndpointRecord> | undefined): EndpointRecord | undefined {
    const now = this.#clock.now();
    const set = this.#pool.candidates(now, () => this.#clock.random());
    const untried = (record: EndpointRecord): boolean => tried === undefined || !tried.has(record);
    const picked =
      set.size === 0
        ? undefined
        : this.#ejection.pick(set, value, now, untried, () =>
            this.#pool.inListOrder(this.#list, set),
          );
    if (picked !== undefined || tried === undefined || tried.size === 0) {
      return picked;
    }
    const wider = this.#pool.fallback(now);
    return wider === set
      ? undefined
      : this.#ejection.pick(wider, value, now, untried, () =>
          this.#pool.inListOrder(this.#list, wider),
        );
  }

  #succeeded(record: EndpointRecord, latencyMs: number | undefined, inFlight: boolean): void {
    const now = this.#clock.now();
    record.succeeded({ now, latencyMs, inFlight }, this.#latency);
    this.#metrics.called(record.endpoint, true);
    if (this.#ejection.succeeded(record, now)) {
      this.#logger.info(`balancer: ${record.endpoint.address} answered its trial call: readmitted`);
    }
  }

  #failed(
    record: EndpointRecord,
    error: unknown,
    latencyMs: number | undefined,
    inFlight: boolean,
  ): void {
    const now = this.#clock.now();
    const refused = isConnectionRefused(error);
    const listed = this.#pool.get(record.endpoint.address) === record;
    this.#metrics.called(record.endpoint, false);
    if (refused && listed && endpointState(record.endpoint) === 'lost') {
      // Kept as the last resort because its key vanished unplanned: a refusal says it is gone.
      this.#pool.drop(record);
      this.#logger.info(
        `balancer: dropped ${record.endpoint.address}, kept as lost: it refused a connection`,
      );
      return;
    }
    record.failed({ now, latencyMs, inFlight }, this.#latency);
    const interval = this.#ejection.failed(
      record,
      now,
      refused,
      listed ? this.#pool.setOf(record) : undefined,
    );
    if (interval === undefined) {
      return;
    }
    this.#metrics.ejected(record.endpoint);
    const why = refused
      ? 'refused a connection'
      : `failed ${record.consecutiveFailures} time(s) in a row`;
    this.#logger.info(`balancer: ejected ${record.endpoint.address} for ${interval}ms: it ${why}`);
  }
}

/** `options` without the fields set to `undefined`, so that defaults spread under them stay. */
function definedOnly<O extends object>(options: O): Partial<O> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<O>;
}

/** What {@link Balancer.locality} tells. */
export interface BalancerLocalityView {
  /** The priority levels present, lowest first. */
  readonly levels: readonly number[];
  /** Each level's share of new calls, in whole percents. */
  readonly load: readonly number[];
  /** Whether each level is in panic (calls all of its endpoints, healthy or not). */
  readonly panic: readonly boolean[];
  /** How the first level spreads over zones: `off` (and why), `direct`, or `residual`. */
  readonly routing: ZoneRouting;
  /** Each priority-and-zone group of endpoints, its healthy and total counts, and its share of calls. */
  readonly groups: readonly {
    /** The group's priority: 0 first. */
    readonly priority: number;
    /** Its zone; `undefined` for endpoints that name none. */
    readonly zone: string | undefined;
    /** How many of its endpoints are serving and not ejected. */
    readonly healthy: number;
    /** How many it has (serving, failing or lost). */
    readonly total: number;
    /** Its share of new calls, in [0, 1]. */
    readonly share: number;
    /** Whether its calls go to all of its endpoints, healthy or not. */
    readonly panic: boolean;
  }[];
}

/** How long a call waits for an endpoint, by default: then it rejects with a `NoEndpointError`. */
const DEFAULT_WAIT_MS = 30_000;

/** `call()` without options: nothing to validate. */
const NO_CALL_OPTIONS: CallOptions<never> = Object.freeze({});

/**
 * Whether `value` is a {@link Balancer}, whichever copy of gsr made it (`instanceof` is false across
 * two copies: a monorepo, a plugin).
 *
 * @example
 * ```ts
 * const balancer = isBalancer(source) ? source : new Balancer(source);
 * ```
 */
export function isBalancer<T = unknown>(value: unknown): value is Balancer<T> {
  return hasBrand(value, 'isGsrBalancer');
}
