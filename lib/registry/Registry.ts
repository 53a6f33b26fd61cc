import { setMaxListeners } from 'node:events';
import {
  defer,
  EMPTY,
  exhaustMap,
  filter,
  ignoreElements,
  merge,
  noop,
  Observable,
  ReplaySubject,
  share,
  takeUntil,
} from 'rxjs';
import type { MeterProvider } from '@opentelemetry/api';
import type { Logger } from 'winston';
import type { Environment, GsrConfig, GsrOptions } from '../config/GsrConfig';
import { loadConfig } from '../config/loadConfig';
import { drainDelayOf, watchGracePeriodOf } from '../config/timeOptions';
import { Discovery } from '../discovery/Discovery';
import type { Endpoint } from '../endpoint/Endpoint';
import { EtcdUnavailableError } from '../errors/EtcdUnavailableError';
import { RegistryClosedError } from '../errors/RegistryClosedError';
import { type Clock, systemClock } from '../etcd/Clock';
import { messageOf } from '../errors/messageOf';
import { ConnectionHealth } from '../etcd/ConnectionHealth';
import { SnapshotStore } from '../snapshot/SnapshotStore';
import type { Freshness } from '../discovery/Freshness';
import { Etcd3Port } from '../etcd/etcd3/Etcd3Port';
import { EtcdContext } from '../etcd/EtcdContext';
import type { Health } from '../etcd/Health';
import { abortable } from '../etcd/abortable';
import { PendingWork } from '../etcd/PendingWork';
import { ticks } from '../etcd/ticks';
import { waitForEtcd } from '../etcd/waitForEtcd';
import { createKeyLayout } from '../keys/createKeyLayout';
import type { KeyLayout } from '../keys/KeyLayout';
import { createLogger } from '../logging/createLogger';
import { warnUnknownVariables } from '../logging/warnUnknownVariables';
import { gsrMeter } from '../metrics/instruments';
import { RegistryMetrics } from '../metrics/RegistryMetrics';
import type { RegisterOptions } from '../registration/RegisterOptions';
import type { Registration } from '../registration/Registration';
import { OverrideWriter } from '../registration/OverrideWriter';
import { Registrar } from '../registration/Registrar';
import type { EndpointChanges } from '../discovery/EndpointChanges';
import type { Override } from '../endpoint/Override';
import { sortedOverrides } from '../discovery/sortedOverrides';
import { type CallerLocality, endpointLocality } from '../locality/Locality';
import type { DrainOptions } from './DrainOptions';
import { latestValues } from './latestValues';

/**
 * How often {@link Registry.health$} considers asking etcd itself, while subscribed. It asks only when
 * no traffic proved etcd answers within the interval and no stream is open whose gRPC keepalive would
 * notice a loss.
 */
const HEALTH_PROBE_INTERVAL_MS = 2000;
/**
 * How long `connect()` waits for etcd's first answer before it starts without it (unless
 * `waitForEtcd`): a process that starts during an etcd outage starts, and makes its first call from
 * its snapshots within a second.
 */
const OFFLINE_START_MS = 750;

/**
 * What a registry is built from: its etcd context (the port, the clock, logging, metrics, the closing
 * signal), its health and its settings. `Registry.connect()` makes them over a real etcd; the
 * simulation tests over a simulated one.
 * @internal
 */
export interface RegistryParts {
  readonly context: EtcdContext;
  readonly health: ConnectionHealth;
  /** Aborted by `close()`: its signal is the context's `closing`. */
  readonly closing: AbortController;
  readonly config: GsrConfig;
  readonly layout: KeyLayout;
  readonly gracePeriodMs: number;
  /**
   * For a registry that started without etcd: resolves with what etcd refused for good once it answered
   * (credentials, a certificate); never otherwise.
   */
  readonly refused?: Promise<Error>;
  /** Where followed lists are kept on disk (`GSR_SNAPSHOT_DIR`); none: not kept. */
  readonly snapshots?: SnapshotStore;
}

/** Options of {@link Registry.connect}: any {@link GsrOptions}, plus a logger and an environment. */
export interface ConnectOptions extends GsrOptions {
  /**
   * A winston logger to write to (gsr logs through a child of it). By default gsr creates a stderr
   * logger honouring GSR_LOG_LEVEL, GSR_LOG_MICROSECONDS and GSR_LOG_FILE_TRACE.
   */
  readonly logger?: Logger;
  /**
   * Where to read `GSR_*` variables from.
   * @default process.env
   */
  readonly env?: Environment;
  /**
   * How long a stream of {@link Registry.endpoints$} or {@link Registry.services$} keeps its etcd watch
   * after its last subscriber left, so that a quick re-subscription finds it warm. `0` releases it as
   * soon as the last subscriber leaves.
   * @default 1000
   */
  readonly watchGracePeriodMs?: number;
  /** Gives up connecting when aborted: `connect()` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * Where gsr's OpenTelemetry instruments are made (see the README's Metrics section).
   * @default the global provider, `metrics.getMeterProvider()`: no-op until an SDK registers one
   */
  readonly meterProvider?: MeterProvider;
}

/**
 * A connection to the gsr service registry in etcd: discover services' endpoints and register your own.
 *
 * @example
 * ```ts
 * import { Registry } from 'gsr';
 *
 * const registry = await Registry.connect(); // configured by GSR_* environment variables
 * // ... discover and register ...
 * await registry.close();
 * ```
 */
export class Registry {
  /** The configuration this registry runs with, after validation and normalisation. */
  readonly config: GsrConfig;
  readonly #context: EtcdContext;
  readonly #health: ConnectionHealth;
  readonly #snapshots: SnapshotStore | undefined;
  readonly #refused: Promise<Error>;
  readonly #layout: KeyLayout;
  readonly #discovery: Discovery;
  readonly #registrar: Registrar;
  readonly #overrides: OverrideWriter;
  readonly #pending = new PendingWork();
  readonly #closing: AbortController;
  /** Stops reporting this registry's gauges. */
  readonly #unobserve: () => void;
  #closed: Promise<void> | undefined;

  /**
   * Whether this registry can talk to etcd: a hot Observable that replays the current state
   * (`{ connected, since, cause? }`) to each subscriber, then each transition, and completes when the
   * registry is closed. Use it to report readiness truthfully.
   *
   * Every watch, keepalive and request reports to it, and while a watch or keepalive stream is open,
   * gRPC's keepalive pings notice a dead connection (within ~9 s) without an etcd request. While it is
   * subscribed, gsr asks etcd itself (one serializable, keys-only read) only when nothing proved etcd
   * answers within 2 s and no stream is open. Each transition is logged once, as a warning.
   *
   * @example
   * ```ts
   * registry.health$.subscribe(({ connected, since }) =>
   *   console.log(connected ? 'etcd ok' : `etcd unreachable since ${since.toISOString()}`),
   * );
   * ```
   */
  readonly health$: Observable<Health>;

  /** @internal */
  constructor(parts: RegistryParts) {
    const { context, health, closing, config, layout, gracePeriodMs } = parts;
    this.#refused = parts.refused ?? new Promise<Error>(() => undefined);
    this.#context = context;
    this.#health = health;
    this.#closing = closing;
    this.#layout = layout;
    this.config = config;
    this.#snapshots = parts.snapshots;
    this.#discovery = new Discovery(context, layout, gracePeriodMs, {
      snapshots: parts.snapshots,
      protection: {
        threshold: config.protectionThreshold,
        keepMs: config.protectionSeconds * 1000,
      },
      lostSince: () => (health.connected ? undefined : health.current.since),
    });
    this.#unobserve = context.metrics.observe({
      endpointCounts: () => this.#discovery.endpointCounts(),
      connected: () => health.connected,
      silenceMs: () => health.silenceMs(),
    });
    this.#overrides = new OverrideWriter(context, layout, this.#discovery);
    this.#registrar = new Registrar(
      context,
      layout,
      this.#discovery,
      config.leaseSeconds,
      this.#pending,
      {
        stampWrites: config.stampWrites,
      },
    );
    health.probeWith(() => context.etcd.probe(layout.probePrefix, { serializable: true }));
    const probing$ = ticks(context.clock, HEALTH_PROBE_INTERVAL_MS).pipe(
      filter(() => health.needsProbe(HEALTH_PROBE_INTERVAL_MS)),
      // The port reports the outcome to health: a refusal (permission) is an answer too.
      exhaustMap(() => context.etcd.probe(layout.probePrefix, { serializable: true }).catch(noop)),
      ignoreElements(),
    );
    const closed$ = new Observable<void>((subscriber) => {
      const done = (): void => subscriber.next();
      closing.signal.addEventListener('abort', done, { once: true });
      return () => closing.signal.removeEventListener('abort', done);
    });
    this.health$ = defer(() =>
      closing.signal.aborted ? EMPTY : merge(health.state$, probing$).pipe(takeUntil(closed$)),
    ).pipe(
      share({
        connector: () => new ReplaySubject<Health>(1),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: true,
      }),
    );
  }

  /**
   * The logger this registry writes to (the one given to `connect()`, else gsr's stderr logger), for
   * integrations that report through it.
   *
   * @example
   * ```ts
   * registry.logger.warn('cache warm-up took 12 s');
   * ```
   */
  get logger(): Logger {
    return this.#context.logger;
  }

  /**
   * Resolves with what etcd refused for good (credentials, a certificate) when this registry started
   * without etcd and etcd then answered no; never otherwise (a refusal at `connect()` rejects it). The
   * command line's servers exit on it.
   * @internal
   */
  refused(): Promise<Error> {
    return this.#refused;
  }

  /**
   * Whether `services$()` and `services()` can list services: `false` under etcd's naming layout, whose
   * targets cannot be listed (name them instead).
   *
   * @example
   * ```ts
   * const names = registry.listsServices ? await registry.services() : ['greeter'];
   * ```
   */
  get listsServices(): boolean {
    return this.#layout.servicesPrefix !== undefined;
  }

  /**
   * Checks a service name (a target under etcd's naming layout) as this registry's layout takes it.
   *
   * @returns The name.
   * @throws ValidationError naming `field` (`service` by default) and the value.
   * @example
   * ```ts
   * const service = registry.validateService(request.query.service, 'service');
   * ```
   */
  validateService(service: unknown, field = 'service'): string {
    return this.#layout.validateService(service, field);
  }

  /**
   * Connects to etcd, like the Go gsr's `gsr.New()` but stricter: it reads the configuration (the
   * environment at call time; `options` win), rejects at once with a `ConfigError` on any invalid value,
   * then retries with exponential backoff until etcd answers a request or
   * `GSR_ETCD_CONNECT_TIMEOUT_SECONDS` runs out (`ConnectError`). Bad credentials or a user without
   * access to the key prefix reject at once (`AuthenticationError`, `PermissionDeniedError`).
   *
   * @example
   * ```ts
   * const registry = await Registry.connect({ connectTimeoutSeconds: 10 });
   * console.log(`connected to ${registry.config.etcdEndpoints.join(', ')}`);
   * ```
   */
  static async connect(options: ConnectOptions = {}): Promise<Registry> {
    const { logger, env, watchGracePeriodMs, signal, meterProvider, ...settings } = options;
    const gracePeriodMs = watchGracePeriodOf(watchGracePeriodMs);
    const config = loadConfig(settings, env);
    const log = logger?.child({ library: 'gsr' }) ?? createLogger(config);
    warnUnknownVariables(log, env ?? process.env);
    const layout = createKeyLayout(config);
    const metrics = new RegistryMetrics(gsrMeter(meterProvider));
    const health = new ConnectionHealth(log, systemClock, {
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    });
    const port = new Etcd3Port(config, health, metrics);
    const closing = new AbortController();
    // Every write that retries sleeps on this signal (one listener each, removed when it wakes): during
    // an election hundreds at once are legitimate, not a leak.
    setMaxListeners(0, closing.signal);
    const context = new EtcdContext(
      port,
      systemClock,
      log,
      metrics,
      config.etcdUsername,
      closing.signal,
    );
    const probe = { prefix: layout.probePrefix, mayBeDenied: layout.probeMayBeDenied };
    // Off the connect path (a command that reads once never needs it): until known, one-off reads
    // fence by counting, which holds on every etcd.
    const learnVersion = (): void =>
      void port.learnVersion().then((version) =>
        log.debug(`etcd ${version ?? '(version unknown)'}`, {
          orderedProgress: port.progressOrdered,
        }),
      );
    let refused: Promise<Error> | undefined;
    const waiting = waitForEtcd(
      context,
      config,
      probe,
      signal === undefined ? closing.signal : AbortSignal.any([signal, closing.signal]),
    );
    try {
      const answered = config.waitForEtcd
        ? await waiting.then(() => true)
        : await firstOf(
            waiting.then(() => true),
            context.clock,
            OFFLINE_START_MS,
          );
      if (answered) {
        learnVersion();
      } else {
        log.warn(
          `etcd at ${config.etcdEndpoints.join(', ')} did not answer within ${OFFLINE_START_MS}ms: ` +
            'starting without it. Lists and registrations wait for etcd and catch up once it ' +
            'answers; one-off reads fail until then (GSR_WAIT_FOR_ETCD=true waits here instead)',
        );
        refused = new Promise<Error>((resolve) => {
          waiting.then(learnVersion, (error: unknown) => {
            if (closing.signal.aborted || signal?.aborted === true) {
              return;
            }
            // Credentials or a certificate refused for good: every list and registration meets it too.
            log.error(`connecting to etcd failed: ${messageOf(error)}`, { cause: error });
            resolve(error instanceof Error ? error : new Error(String(error)));
          });
        });
      }
    } catch (error) {
      closing.abort();
      port.close();
      health.close(); // Its event-loop monitor and timers, too.
      throw error;
    }
    const snapshots =
      config.snapshotDir === ''
        ? undefined
        : snapshotStore(config, config.snapshotDir, systemClock, log);
    return new Registry({
      context,
      health,
      closing,
      config,
      layout,
      gracePeriodMs,
      ...(refused !== undefined && { refused }),
      ...(snapshots !== undefined && { snapshots }),
    });
  }

  /**
   * The live list of a service's endpoints, sorted by address: a hot, shared Observable.
   *
   * - Its first value is the current list (even when empty), read with one range get of exactly
   *   `<prefix>services/<service>/`; later values come from an etcd watch that starts right after that
   *   get's revision, so that no change is lost or doubled. Each value is a new frozen array, emitted
   *   only when an endpoint came, went, or changed its metadata.
   * - Every subscriber of one service shares one etcd watch. A late subscriber gets the current list at
   *   once, without asking etcd. The watch is cancelled once the last subscriber has been gone for
   *   `watchGracePeriodMs` (1 s by default).
   * - It rides out etcd trouble (lost connection, leader change, restart, compaction) without erroring:
   *   it keeps the last list, retries with backoff, and catches up. It errors only on what retrying
   *   cannot fix (`PermissionDeniedError`, `AuthenticationError`, or a `ValidationError` for a bad
   *   service name), and completes when the registry is closed.
   * - A malformed key or non-JSON metadata found in etcd is logged and skipped, never thrown.
   * - When `GSR_SNAPSHOT_DIR` holds this service's list from before and etcd is lost (or has not
   *   answered within half a second), that list comes first, until etcd's; {@link Registry.freshness}
   *   tells which is which.
   *
   * @example
   * ```ts
   * import { filter, map } from 'rxjs';
   *
   * registry
   *   .endpoints$('data-access')
   *   .pipe(
   *     filter((endpoints) => endpoints.length > 0),
   *     map((endpoints) => endpoints[Math.floor(Math.random() * endpoints.length)]),
   *   )
   *   .subscribe((endpoint) => console.log(`next request goes to ${endpoint.address}`));
   * ```
   * @see {@link Registry.endpoints} for a one-off list.
   */
  endpoints$(service: string): Observable<readonly Endpoint[]> {
    return this.#discovery.endpoints$(service);
  }

  /**
   * Writes every service's list and operators' overrides to `dir`, as snapshots for processes that
   * start while etcd is down (`gsr snapshot save`); resolves with how many lists it wrote.
   * @internal
   */
  saveSnapshots(dir: string): Promise<number> {
    const { clock, logger } = this.#context;
    return this.#discovery.saveSnapshots(snapshotStore(this.config, dir, clock, logger));
  }

  /**
   * Whether a list {@link Registry.endpoints$} (or {@link Registry.services$}) handed out is etcd's
   * state now (`live`), what etcd held when it stopped answering (`kept`), or a snapshot from disk
   * (`snapshot`), and since when. It says what is true when asked: a list kept through an outage is
   * `live` again once etcd answers again. Any other array (a one-off read's, which etcd just
   * answered) is `live`.
   *
   * @example
   * ```ts
   * registry.endpoints$('api').subscribe((list) => {
   *   const freshness = registry.freshness(list);
   *   if (freshness.kind !== 'live') {
   *     log.warn(`api: calling from a list of ${freshness.since.toISOString()} (${freshness.kind})`);
   *   }
   * });
   * ```
   */
  freshness(list: readonly Endpoint[] | readonly string[]): Freshness {
    return this.#discovery.freshness(list);
  }

  /**
   * The live list of a service's endpoints as an async iterator, for code that does not use RxJS:
   * `for await (const endpoints of registry.watch('web'))`. It is {@link Registry.endpoints$}: the first
   * list, then each change; a loop slower than the changes gets the latest list each time (never a
   * backlog of stale ones). Leaving the loop (`break`, `return`) releases the subscription; it ends when
   * the registry closes, and throws what the stream would error with.
   *
   * @example
   * ```ts
   * for await (const endpoints of registry.watch('data-access')) {
   *   console.log(endpoints.map((endpoint) => endpoint.address).join(' '));
   *   if (endpoints.length >= 2) break;
   * }
   * ```
   * @see {@link Registry.endpoints$} for the Observable.
   */
  watch(service: string): AsyncIterableIterator<readonly Endpoint[]> {
    return latestValues(this.endpoints$(service));
  }

  /**
   * The live, sorted names of the services that have endpoints, as an async iterator: what
   * {@link Registry.watch} is to {@link Registry.endpoints$}, for {@link Registry.services$}.
   *
   * @example
   * ```ts
   * for await (const names of registry.watchServices()) {
   *   console.log(`services: ${names.join(', ')}`);
   * }
   * ```
   */
  watchServices(): AsyncIterableIterator<readonly string[]> {
    return latestValues(this.services$());
  }

  /**
   * The live, sorted names of the services that have at least one endpoint, under the same rules as
   * {@link Registry.endpoints$} (one shared watch of `<prefix>services/`).
   *
   * @example
   * ```ts
   * registry.services$().subscribe((names) => console.log(`services: ${names.join(', ')}`));
   * ```
   */
  services$(): Observable<readonly string[]> {
    return this.#discovery.services$();
  }

  /**
   * The names of the services that have at least one endpoint, once: from the live list when
   * {@link Registry.services$} is subscribed, else with one range get. Rejects like
   * {@link Registry.endpoints}.
   *
   * @example
   * ```ts
   * console.log((await registry.services()).join('\n'));
   * ```
   */
  services(): Promise<readonly string[]> {
    return this.#discovery.services();
  }

  /**
   * The endpoints of a service, once, like the Go gsr's `Endpoints()`: from the live cache when a stream
   * of that service is subscribed, else with one range get. Unlike the Go gsr it does not swallow
   * errors: it rejects with `EtcdUnavailableError`, `PermissionDeniedError`, `ValidationError` or
   * `RegistryClosedError`.
   *
   * @example
   * ```ts
   * for (const endpoint of await registry.endpoints('data-access')) {
   *   console.log(endpoint.address);
   * }
   * ```
   */
  endpoints(service: string): Promise<readonly Endpoint[]> {
    return this.#discovery.endpoints(service);
  }

  /**
   * A service's endpoints once, as their keys say, without operators' overrides: for the command line,
   * which lists overrides beside what each service lists and must not read the overrides per service.
   * @internal
   */
  asWritten(service: string): Promise<readonly Endpoint[]> {
    return this.#discovery.asWritten(service);
  }

  /**
   * What changes in a service's list, rather than the list: first every endpoint as added, then for
   * each change the endpoints added, removed and updated (metadata or state, an operator's maintenance
   * among them), with etcd's revision. It shares `endpoints$`'s watch; subscribers of changes alone never
   * have the list copied for them, so that a 100,000-endpoint service costs each change what changed.
   * A `Balancer` reads lists the same way inside; `changes()` turns any stream of lists into this.
   *
   * @example
   * ```ts
   * registry.changes$('api').subscribe(({ added, removed, updated, revision }) => {
   *   added.forEach((endpoint) => connections.open(endpoint.address));
   *   removed.forEach((endpoint) => connections.close(endpoint.address));
   * });
   * ```
   */
  changes$(service: string): Observable<EndpointChanges> {
    return this.#discovery.changes$(service);
  }

  /**
   * Registers an endpoint for as long as the subscription lasts: a cold Observable that, on subscribe,
   * validates the endpoint, takes the registry's lease and writes `<prefix>services/<service>/<address>`
   * bound to it (value empty, or the JSON of `metadata`), then emits a {@link Registration}. It never
   * completes by itself; unsubscribing deletes the key, but only while it is still bound to this
   * registry's lease, so that another process that registered the same address keeps it.
   *
   * - All registrations of a registry share one lease and one keepalive (TTL `GSR_LEASE_SECONDS`): it is
   *   granted with the first and revoked with the last.
   * - If the lease is lost (expired during a partition or a pause, revoked, or gone with etcd's data),
   *   every live registration is written again on a new lease as soon as etcd answers, and emits a new
   *   `Registration`.
   * - While etcd is unreachable it retries with backoff and never errors; it errors only on what
   *   retrying cannot fix (`PermissionDeniedError`, `AuthenticationError`), and with a `ValidationError`
   *   before writing anything when the endpoint is invalid. It completes on {@link Registry.unregister}
   *   of the endpoint and on {@link Registry.close}.
   * - Registering the same endpoint twice in one registry shares its key (the last metadata written
   *   wins); the key is deleted when the last of them ends.
   * - With a `check` ({@link RegisterOptions}), the endpoint is written once its first check settled,
   *   serving or failing as it says, and marked failing after `unhealthyAfter` failures in a row,
   *   serving again after `healthyAfter` passes. Each change of state emits a `Registration`.
   * - After {@link Registry.drain}, the key says draining, and so does every registration made later.
   *
   * @param options A health check and its timing; invalid options are a `ValidationError` on subscribe.
   * @example
   * ```ts
   * const subscription = registry
   *   .register({ service: 'data-access', address: '10.0.0.7:10000', metadata: { zone: 'a' } })
   *   .subscribe((registration) => console.log(`registered on lease ${registration.leaseId}`));
   *
   * process.once('SIGTERM', async () => {
   *   await registry.drain(); // clients stop sending new calls...
   *   subscription.unsubscribe(); // ...the key is deleted...
   *   await registry.close(); // ...and etcd has it
   * });
   * ```
   */
  register(endpoint: Endpoint, options?: RegisterOptions): Observable<Registration> {
    return this.#registrar.register(endpoint, options);
  }

  /**
   * Where this process is, for a `Balancer`'s `locality` option: the zone and region of its own
   * registration (the first live one that names a zone, or `service`'s when given), and that service's
   * live list as `callers$`, by which zone-aware routing weighs zones. `{}` while the registry holds no
   * such registration: priorities from metadata only. Call it once this process registered.
   *
   * @example
   * ```ts
   * registry.register({ service: 'web', address, metadata: { zone: 'eu-1a' } }).subscribe();
   * const data = new Balancer(registry.endpoints$('data-access'), { locality: registry.locality() });
   * ```
   */
  locality(service?: string): CallerLocality {
    const own = this.#registrar
      .registered()
      .find(
        (endpoint) =>
          (service === undefined || endpoint.service === service) &&
          endpointLocality(endpoint).zone !== undefined,
      );
    if (own === undefined) {
      return {};
    }
    const { zone, region } = endpointLocality(own);
    return { zone, region, callers$: this.endpoints$(own.service) };
  }

  /**
   * Takes this process out of rotation before it stops: marks every live registration of the registry
   * draining in etcd (and every registration made afterwards), resolves once etcd confirmed each and
   * `delayMs` has passed, long enough for clients to see it. The keys stay until the registrations end:
   * a client with nothing better keeps calling a draining endpoint (a `Balancer` picks one only when no
   * endpoint of its service is serving), so finish in-flight work, then `close()`.
   *
   * Resolves at once when the registry has no registration. Rejects with `RegistryClosedError` after
   * `close()`, and with the signal's reason when `signal` aborts (an etcd outage would otherwise keep it
   * waiting, as it keeps writes waiting).
   *
   * @example
   * ```ts
   * process.once('SIGTERM', async () => {
   *   await registry.drain(); // marked draining; clients have seen it
   *   server.close(); // no new connections; in-flight requests finish
   *   await registry.close(); // keys deleted, lease revoked
   * });
   * ```
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    const delayMs = drainDelayOf(options.delayMs ?? this.config.drainDelayMs);
    const { signal } = options;
    if (this.#closing.signal.aborted) {
      throw new RegistryClosedError('drain');
    }
    const drained = await this.#registrar.drain(signal);
    if (drained === 0) {
      this.#context.logger.info('drained: no registration to drain');
      return;
    }
    this.#context.logger.info(
      `drained ${drained} registration${drained === 1 ? '' : 's'}; waiting ${delayMs}ms for clients to see it`,
    );
    // close() ends the wait too: nothing of a closed registry keeps the process alive. However it
    // ends (the delay, close(), the caller's signal), it releases the timer and the listener.
    const closing = this.#closing.signal;
    let cancelTimer: () => void = () => undefined;
    let finish: () => void = () => undefined;
    await abortable(
      new Promise<void>((resolve) => {
        finish = () => {
          cancelTimer();
          closing.removeEventListener('abort', finish);
          resolve();
        };
        closing.addEventListener('abort', finish, { once: true });
        cancelTimer = this.#context.clock.schedule(delayMs, finish);
      }),
      signal,
      () => finish(),
    );
  }

  /**
   * Takes an endpoint out of rotation as an operator: every list gsr gives shows it in `'maintenance'`
   * (with `reason` and since when), and no `Balancer`, gRPC resolver or xDS client sends it calls, until
   * {@link Registry.clearMaintenance}. The override is a key of its own (`<prefix>overrides/<service>/
   * <address>`, no lease), so the instance's re-registration, a restart at the same address or its lease
   * expiring never erase it; it outlives the endpoint, applies again if the address comes back, and goes
   * only when cleared (`gsr overrides` lists them, with their age). Resolves once etcd confirmed it.
   *
   * @throws ValidationError naming the field, before anything is written: a service or address gsr
   *   could not register, a reason that is not one line of at most 200 characters.
   * @example
   * ```ts
   * await registry.setMaintenance('data-access', '10.0.0.7:10000', { reason: 'disk replacement' });
   * ```
   */
  setMaintenance(
    service: string,
    address: string,
    options: { readonly reason?: string } = {},
  ): Promise<void> {
    return this.#overrides.set(service, address, { reason: options.reason });
  }

  /**
   * Ends an operator's maintenance of an endpoint: it takes calls again (if it is listed). Resolves once
   * etcd confirmed it, also when there was none.
   *
   * @example
   * ```ts
   * await registry.clearMaintenance('data-access', '10.0.0.7:10000');
   * ```
   */
  clearMaintenance(service: string, address: string): Promise<void> {
    return this.#overrides.set(service, address, undefined);
  }

  /**
   * Every operator's override now: the endpoints in maintenance, by service and address, whether or not
   * they are still listed. Rejects like {@link Registry.endpoints}, a user that may not read the
   * overrides too (`PermissionDeniedError`): lists go on without overrides they cannot read, but this
   * list must not say "none" for "you may not know".
   *
   * @example
   * ```ts
   * for (const { service, address, maintenance } of await registry.overrides()) {
   *   console.log(service, address, maintenance.reason, maintenance.since);
   * }
   * ```
   */
  async overrides(): Promise<readonly Override[]> {
    return sortedOverrides(await this.#discovery.overrides());
  }

  /**
   * Deregisters an endpoint, like the Go gsr's `Unregister()`: completes this registry's live
   * registrations of it and deletes its key (only while bound to this registry's lease, when this registry
   * holds it; unconditionally otherwise). Resolves once etcd has deleted it; while etcd is unreachable it
   * keeps trying, and rejects with `RegistryClosedError` if the registry is closed first.
   *
   * @example
   * ```ts
   * await registry.unregister({ service: 'data-access', address: '10.0.0.7:10000' });
   * ```
   */
  unregister(endpoint: Pick<Endpoint, 'service' | 'address'>): Promise<void> {
    return this.#registrar.unregister(endpoint);
  }

  /**
   * Ends every registration (their keys deleted, the lease revoked) and every stream (they complete),
   * waits for those writes to reach etcd, and closes the client; afterwards the process can exit by
   * itself. Retries stop at once: when etcd is unreachable each write is tried once, and what could not
   * be deleted expires with the lease's TTL. Calling it again returns the same promise.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', async () => {
   *   subscription.unsubscribe();
   *   await registry.close();
   *   process.exit(0);
   * });
   * ```
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#closing.abort(); // Streams complete, retries stop; drain() resolves no more.
    const { keys: unconfirmed, cause } = await this.#registrar.close();
    await this.#pending.drain();
    await this.#snapshots?.close(); // The lists as they were last: the next start may need them.
    this.#health.close();
    this.#context.etcd.close();
    this.#unobserve();
    if (unconfirmed.length > 0) {
      const [first = '', ...others] = unconfirmed;
      const more = others.length === 0 ? '' : ` and ${others.length} more`;
      this.#context.logger.info('registry closed; some keys expire with their lease');
      throw new EtcdUnavailableError(
        `deregister ${first}${more} (they expire with their lease within ${this.config.leaseSeconds}s)`,
        cause,
        unconfirmed,
      );
    }
    this.#context.logger.info('registry closed');
  }
}

/** Snapshots of the lists of this configuration's etcd and key prefix, kept in `dir`. */
function snapshotStore(
  config: GsrConfig,
  dir: string,
  clock: Clock,
  logger: Logger,
): SnapshotStore {
  return new SnapshotStore(
    dir,
    { etcd: config.etcdEndpoints, keyPrefix: config.keyPrefix },
    { maxAgeMs: config.snapshotMaxAgeSeconds * 1000, clock, logger },
  );
}

/**
 * Resolves with what `promise` resolves with, or `false` after `ms` if it has not settled by then;
 * rejects if it rejects first.
 */
function firstOf(promise: Promise<boolean>, clock: Clock, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const cancel = clock.schedule(ms, () => resolve(false), { keepsAlive: false });
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
