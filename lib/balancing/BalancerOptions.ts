import { isObservable, type Observable } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { ValidationError } from '../errors/ValidationError';
import type { CallerLocality } from '../locality/Locality';
import { localityPolicy } from '../locality/LocalityPolicy';
import type { Clock } from '../etcd/Clock';
import type { MeterProvider } from '@opentelemetry/api';
import type { Logger } from 'winston';
import type { OrcaReport } from '../orca/OrcaReport';
import type { WeightedRoundRobinOptions } from './LoadWeight';
import type { RetryBudgetOptions } from './RetryBudget';
import type { SlowStartOptions } from './SlowStart';
import type { SubsetOptions } from './SubsetOptions';
import type { Strategy } from './Strategy';

/** Options of a {@link Balancer} (and of `callEndpoint`, which makes one when given a list). */
export interface BalancerOptions<T = unknown> {
  /**
   * How to choose among the endpoints that may be picked.
   * @default 'round-robin'
   */
  readonly strategy?: Strategy<T>;
  /**
   * How many times a call that failed in a retryable way is tried again, each time on an endpoint it
   * has not tried.
   * @default 2
   */
  readonly retries?: number;
  /**
   * Whether a failure may be retried on another endpoint.
   * @default isRetryableError (refused, reset or timed out before an answer; gRPC UNAVAILABLE)
   */
  readonly retryable?: (error: unknown) => boolean;
  /**
   * Retries may add at most `percent` % (plus `minPerSecond`) to the calls of the last `windowMs`;
   * `false` for no budget.
   * @default { percent: 20, minPerSecond: 10, windowMs: 10000 }
   */
  readonly retryBudget?: RetryBudgetOptions | false;
  /**
   * Outlier ejection: after `consecutiveFailures` failures in a row (at once for a refused connection),
   * an endpoint is not picked for `baseEjectionMs`, doubling with each ejection up to `maxEjectionMs`,
   * then gets one trial call; never more than `maxEjectionPercent` % of the list is ejected. `false`
   * turns it off.
   * @default { consecutiveFailures: 3, baseEjectionMs: 2000, maxEjectionMs: 60000, maxEjectionPercent: 50 }
   */
  readonly outlier?: OutlierOptions | false;
  /**
   * The `'latency'` strategy's peak-EWMA: its time constant, and the latency assumed of an endpoint
   * not measured yet.
   * @default { decayMs: 10000, defaultMs: 5 }
   */
  readonly latency?: {
    /** How long a latency spike takes to fade (the EWMA's time constant), ms. */
    readonly decayMs?: number;
    /** The latency assumed of an endpoint not measured yet, ms. */
    readonly defaultMs?: number;
  };
  /** How `'weighted-round-robin'` turns load reports into weights (gRFC A58's settings). */
  readonly weightedRoundRobin?: WeightedRoundRobinOptions;
  /** This caller's zone: the same as `locality: { zone }`. */
  readonly zone?: string;
  /**
   * Where this caller is and who its peers are, for priorities and zone-aware routing (see
   * {@link BalancerLocality}); without it every endpoint is priority 0, unless its metadata says.
   */
  readonly locality?: BalancerLocality;
  /**
   * Ramps the weight of endpoints that arrive after the first list, as Envoy's slow start does (see
   * {@link SlowStartOptions}); off by default.
   */
  readonly slowStart?: SlowStartOptions;
  /**
   * Talk to a deterministic subset of about `size` endpoints, by this client's place among its peers,
   * so that with C clients and S servers there are C × size connections rather than C × S, spread
   * evenly (see {@link SubsetOptions}); off by default.
   */
  readonly subset?: SubsetOptions;
  /**
   * How long, in milliseconds, a call waits for an endpoint while there is none: then it rejects with a
   * `NoEndpointError` naming the service. Calls that wait more than 5 s are said in a warning first.
   * `Infinity` waits as long as it takes (or until the call's signal aborts).
   * @default 30000
   */
  readonly timeout?: number;
  /**
   * Whether the balancer's instruments (`gsr.balancer.*`) carry each endpoint's address too. Off by
   * default: series are kept per service and outcome, and stay as many however many endpoints come and
   * go. On, each endpoint ever seen keeps series of its own (the OpenTelemetry SDK caps an instrument
   * at 2,000 by default): for fleets whose endpoints rarely change.
   * @default false
   */
  readonly endpointMetrics?: boolean;
  /** Where ejections, readmissions and bad weights are logged. By default, gsr's stderr logger. */
  readonly logger?: Logger;
  /**
   * Where the balancer's OpenTelemetry instruments (`gsr.balancer.*`) are made.
   * @default the global provider, `metrics.getMeterProvider()`: no-op until an SDK registers one
   */
  readonly meterProvider?: MeterProvider;
  /** Time and chance (a simulation's virtual clock); the system's by default. @internal */
  readonly clock?: Clock;
}

/**
 * Where a caller is, for the locality policy the Balancer shares with gsr's xDS server (Envoy's priority
 * levels with overprovisioning and panic, then zone-aware routing): see the README's Load balancing.
 *
 * @example
 * ```ts
 * new Balancer(registry.endpoints$('data-access'), {
 *   locality: { zone: 'eu-west-1a', region: 'eu-west-1', callers$: registry.endpoints$('web') },
 * });
 * ```
 */
export interface BalancerLocality extends CallerLocality {
  /** The caller's zone: endpoints in it come first (priority 0), or zone-aware routing with `callers$`. */
  readonly zone?: string | undefined;
  /** The caller's region: endpoints in it come before those elsewhere. */
  readonly region?: string | undefined;
  /**
   * The live list of the caller's own service (Envoy's "local cluster"), e.g.
   * `registry.endpoints$('web')`: with it, zones of the caller's region share priority 0 and calls
   * stay in the caller's zone as far as its endpoints there can take its callers there, the rest
   * spilling to zones with room.
   */
  readonly callers$?: Observable<readonly Endpoint[]> | undefined;
  /** Envoy's overprovisioning factor (default 1.4): priority 0 keeps every call until fewer than 1/1.4 of its endpoints are healthy. */
  readonly overprovisioningFactor?: number;
  /** Envoy's panic threshold in percent (default 50): below it, a level the others cannot relieve calls all of its endpoints. */
  readonly panicThreshold?: number;
  /** Zone-aware routing needs at least this many healthy endpoints in the first level (default 6). */
  readonly minClusterSize?: number;
}

/** See {@link BalancerOptions.outlier}. */
export interface OutlierOptions {
  /** @default 3 */
  readonly consecutiveFailures?: number;
  /** @default 2000 */
  readonly baseEjectionMs?: number;
  /** @default 60000 */
  readonly maxEjectionMs?: number;
  /** @default 50 */
  readonly maxEjectionPercent?: number;
}

/** What one call may set for itself. */
export interface CallOptions<T = unknown> {
  /** Aborts the call: the attempt in flight gets the signal, and no retry follows. */
  readonly signal?: AbortSignal;
  /** The value the strategy picks for (a custom picker's second argument). */
  readonly value?: T;
  /** Overrides {@link BalancerOptions.retries} for this call. */
  readonly retries?: number;
  /** Overrides {@link BalancerOptions.retryable} for this call. */
  readonly retryable?: (error: unknown) => boolean;
}

/** An outcome reported with `balancer.report`, for calls made without `balancer.call`. */
export type Outcome =
  | {
      /** The call succeeded. */
      readonly ok: true;
      /** How long it took, ms: the latency strategy learns from it. */
      readonly latencyMs?: number;
      /** The server's load report, as it sent it (`endpoint-load-metrics-bin`) or read: weighted round robin learns from it. */
      readonly load?: OrcaReport | string | Uint8Array;
    }
  | {
      /** The call failed: counts towards the endpoint's ejection. */
      readonly ok: false;
      /** How long it took, ms. */
      readonly latencyMs?: number;
      /** What it failed with: a refused connection ejects the endpoint at once. */
      readonly error?: unknown;
      /** The server's load report, when its answer carried one. */
      readonly load?: OrcaReport | string | Uint8Array;
    };

const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** p-queue's style: what was expected of which option, and what came. */
function expected(option: string, what: string, value: unknown): TypeError {
  const shown = typeof value === 'string' ? `'${value.slice(0, 60)}'` : String(value);
  return new TypeError(`Expected \`${option}\` to be ${what}, got \`${shown}\` (${typeof value})`);
}

function check(value: unknown, option: string, what: string, ok: (n: number) => boolean): void {
  if (value !== undefined && (typeof value !== 'number' || !ok(value))) {
    throw expected(option, what, value);
  }
}

/** The built-in strategies, by name. @internal */
export const STRATEGIES = [
  'round-robin',
  'random',
  'least-outstanding',
  'latency',
  'weighted-round-robin',
] as const;

/** The error for a strategy that is none of {@link STRATEGIES} nor a function. @internal */
export function unknownStrategy(strategy: unknown): TypeError {
  return new TypeError(
    `Expected \`strategy\` to be one of ${STRATEGIES.map((s) => `'${s}'`).join(', ')} or a function, got \`${String(strategy)}\` (${typeof strategy})`,
  );
}

const wholeAtLeast = (min: number) => (n: number) => Number.isSafeInteger(n) && n >= min;
const positiveMs = (n: number) => Number.isFinite(n) && n > 0 && n <= LONGEST_TIMER_MS;
const percentage = (n: number) => Number.isFinite(n) && n >= 0 && n <= 100;

/** What a call may set of a balancer's options, before it is checked. */
interface UncheckedCallOptions {
  readonly retries?: unknown;
  readonly retryable?: unknown;
}

/** A balancer's options, before they are checked. */
interface UncheckedBalancerOptions extends UncheckedCallOptions {
  readonly strategy?: unknown;
  readonly timeout?: unknown;
  readonly zone?: unknown;
  readonly locality?: unknown;
  readonly weightedRoundRobin?: unknown;
  readonly retryBudget?: { readonly [K in keyof RetryBudgetOptions]?: unknown } | false;
  readonly outlier?: { readonly [K in keyof OutlierOptions]?: unknown } | false;
  readonly latency?: { readonly decayMs?: unknown; readonly defaultMs?: unknown };
  readonly subset?: { readonly size?: unknown; readonly self?: unknown; readonly peers$?: unknown };
  readonly slowStart?: {
    readonly windowMs?: unknown;
    readonly aggression?: unknown;
    readonly minWeightPercent?: unknown;
  };
}

/**
 * Checks a call's options (`call(fn, options)`): what it may override of its balancer's.
 * @throws TypeError naming the option, what was expected and the value.
 * @internal
 */
export function validateCallOptions(options: UncheckedCallOptions): void {
  check(options.retries, 'retries', 'a whole number >= 0', wholeAtLeast(0));
  if (options.retryable !== undefined && typeof options.retryable !== 'function') {
    throw expected('retryable', 'a function', options.retryable);
  }
}

/**
 * Checks a balancer's options given in code, before anything is built: those a call may override,
 * then the balancer's own, group by group.
 * @throws TypeError naming the option, what was expected and the value.
 * @internal
 */
export function validateBalancerOptions(options: UncheckedBalancerOptions): void {
  validateCallOptions(options);
  const { strategy } = options;
  if (
    strategy !== undefined &&
    typeof strategy !== 'function' &&
    !(STRATEGIES as readonly unknown[]).includes(strategy)
  ) {
    throw unknownStrategy(strategy);
  }
  check(
    options.timeout,
    'timeout',
    'a number of milliseconds >= 0, or Infinity',
    (n) => n === Infinity || (Number.isFinite(n) && n >= 0 && n <= LONGEST_TIMER_MS),
  );
  if (options.zone !== undefined && (typeof options.zone !== 'string' || options.zone === '')) {
    throw expected('zone', 'a non-empty string', options.zone);
  }
  checkLocality(options.locality);
  checkWeightedRoundRobin(options.weightedRoundRobin);
  const { retryBudget, outlier, latency, subset, slowStart } = options;
  for (const [name, group] of Object.entries({
    retryBudget,
    outlier,
    latency,
    slowStart,
    subset,
  }) as [string, unknown][]) {
    if (group !== undefined && group !== false && (typeof group !== 'object' || group === null)) {
      throw expected(name, 'an object of options', group);
    }
  }
  if (retryBudget !== undefined && retryBudget !== false) {
    checkRetryBudget(retryBudget);
  }
  if (outlier !== undefined && outlier !== false) {
    checkOutlier(outlier);
  }
  if (latency !== undefined) {
    check(latency.decayMs, 'latency.decayMs', 'a number of milliseconds > 0', positiveMs);
    check(latency.defaultMs, 'latency.defaultMs', 'a number of milliseconds > 0', positiveMs);
  }
  if (subset !== undefined) {
    checkSubset(subset);
  }
  if (slowStart !== undefined) {
    checkSlowStart(slowStart);
  }
}

function checkWeightedRoundRobin(given: unknown): void {
  if (given === undefined) {
    return;
  }
  if (typeof given !== 'object' || given === null) {
    throw expected('weightedRoundRobin', 'an object of options', given);
  }
  const options = given as Record<string, unknown>;
  for (const name of ['blackoutPeriodMs', 'weightExpirationPeriodMs'] as const) {
    check(
      options[name],
      `weightedRoundRobin.${name}`,
      'a number of milliseconds >= 0',
      (n) => Number.isFinite(n) && n >= 0,
    );
  }
  check(
    options.weightUpdatePeriodMs,
    'weightedRoundRobin.weightUpdatePeriodMs',
    'a number of milliseconds >= 100',
    (n) => Number.isFinite(n) && n >= 100,
  );
  check(
    options.errorUtilizationPenalty,
    'weightedRoundRobin.errorUtilizationPenalty',
    'a number >= 0',
    (n) => Number.isFinite(n) && n >= 0,
  );
}

function checkLocality(locality: unknown): void {
  if (locality === undefined) {
    return;
  }
  if (typeof locality !== 'object' || locality === null) {
    throw expected('locality', 'an object of options', locality);
  }
  const { zone, region, callers$ } = locality as Record<string, unknown>;
  for (const [name, value] of Object.entries({ zone, region })) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw expected(`locality.${name}`, 'a non-empty string', value);
    }
  }
  if (callers$ !== undefined && !isObservable(callers$)) {
    throw expected('locality.callers$', 'an Observable of endpoint lists', callers$);
  }
  localityPolicy(locality, 'locality');
}

function checkRetryBudget(
  retryBudget: Exclude<UncheckedBalancerOptions['retryBudget'], false | undefined>,
): void {
  check(retryBudget.percent, 'retryBudget.percent', 'a percentage from 0 to 100', percentage);
  check(
    retryBudget.minPerSecond,
    'retryBudget.minPerSecond',
    'a number >= 0',
    (n) => Number.isFinite(n) && n >= 0,
  );
  check(retryBudget.windowMs, 'retryBudget.windowMs', 'a number of milliseconds > 0', positiveMs);
}

function checkOutlier(
  outlier: Exclude<UncheckedBalancerOptions['outlier'], false | undefined>,
): void {
  check(
    outlier.consecutiveFailures,
    'outlier.consecutiveFailures',
    'a whole number >= 1',
    wholeAtLeast(1),
  );
  check(
    outlier.baseEjectionMs,
    'outlier.baseEjectionMs',
    'a number of milliseconds > 0',
    positiveMs,
  );
  check(outlier.maxEjectionMs, 'outlier.maxEjectionMs', 'a number of milliseconds > 0', positiveMs);
  check(
    outlier.maxEjectionPercent,
    'outlier.maxEjectionPercent',
    'a percentage from 0 to 100',
    percentage,
  );
}

function checkSubset(subset: NonNullable<UncheckedBalancerOptions['subset']>): void {
  check(subset.size ?? NaN, 'subset.size', 'a whole number >= 1', wholeAtLeast(1));
  if (typeof subset.self !== 'string' || subset.self === '') {
    throw expected('subset.self', "this client's address, a non-empty string", subset.self);
  }
  if (typeof (subset.peers$ as { subscribe?: unknown } | undefined)?.subscribe !== 'function') {
    throw expected(
      'subset.peers$',
      "an Observable of the client service's endpoints",
      subset.peers$,
    );
  }
}

function checkSlowStart(slowStart: NonNullable<UncheckedBalancerOptions['slowStart']>): void {
  if (slowStart.windowMs === undefined) {
    throw expected('slowStart.windowMs', 'a number of milliseconds > 0', undefined);
  }
  check(slowStart.windowMs, 'slowStart.windowMs', 'a number of milliseconds > 0', positiveMs);
  check(
    slowStart.aggression,
    'slowStart.aggression',
    'a number > 0',
    (n) => Number.isFinite(n) && n > 0,
  );
  check(
    slowStart.minWeightPercent,
    'slowStart.minWeightPercent',
    'a percentage above 0, at most 100',
    (n) => percentage(n) && n > 0,
  );
}

/**
 * Checks an outcome given to `Balancer.report`: a `latencyMs` must be a finite number, 0 or more.
 * @throws ValidationError naming `latencyMs` and its value.
 * @internal
 */
export function validateOutcome(outcome: Outcome): void {
  const latencyMs: unknown = (outcome as { latencyMs?: unknown } | undefined)?.latencyMs;
  if (
    latencyMs !== undefined &&
    !(typeof latencyMs === 'number' && Number.isFinite(latencyMs) && latencyMs >= 0)
  ) {
    throw new ValidationError(
      'latencyMs',
      latencyMs,
      'expected a finite number of milliseconds, 0 or more',
    );
  }
}
