import { BehaviorSubject, type Observable } from 'rxjs';
import type { Logger } from 'winston';
import { messageOf } from '../errors/messageOf';
import type { Cancel, Clock } from './Clock';
import { EventLoopLag, type LoopLag } from './EventLoopLag';
import type { Health } from './Health';
import { LatencyWindow } from './LatencyWindow';

/**
 * After a connection or a stream failed (refused, reset, keepalive pings unanswered), etcd has this long
 * to answer anything (the re-watch, the reconnect, a probe) before the loss is said: a connection that
 * grpc-js drops and opens again at once is no outage.
 */
export const LOSS_CONFIRM_MS = 1000;
/**
 * Requests that miss their deadline prove no loss by themselves (etcd may be slow, this process busy):
 * only when they go on and nothing at all answers for this many request deadlines (at least
 * {@link SILENCE_LOSS_MIN_MS}) is the connection called lost. A pause, a garbage collection or a blocked
 * event loop of a second or two is no outage.
 */
const SILENCE_DEADLINES = 3;
/** The least silence after late answers that makes a loss, whatever the request deadline. */
export const SILENCE_LOSS_MIN_MS = 3000;
/** Late answers that go on this long are said as a warning, that etcd is slow... */
const DEGRADED_AFTER_MS = 10_000;
/** ...at most once in this long; and an episode of late answers ends after this long without one. */
const DEGRADED_INTERVAL_MS = 60_000;
/** While a loss is suspected, health asks etcd itself this often (nothing else may be asking). */
const SUSPECT_PROBE_MS = 2000;
/** The debug line about late answers is written at most this often. */
const LATE_LOG_INTERVAL_MS = 1000;

/** What health suspects, before it says anything: no answer since `since` (`clock.now()`). */
type Suspicion =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'failed' | 'late';
      readonly since: number;
      readonly cause: unknown;
      /** Cancels the verdict and the probes. */
      readonly cancel: Cancel;
    };

/** Requests that missed their deadline, from the first of an episode to the last. */
interface SlowEpisode {
  readonly since: number;
  lastMs: number;
  misses: number;
}

const NO_SUSPICION: Suspicion = Object.freeze({ kind: 'none' });

/**
 * Whether the registry can talk to etcd, as its streams, registrations, requests and probes find out.
 *
 * "Lost" is said only on evidence: a connection or stream that failed with nothing answering within
 * {@link LOSS_CONFIRM_MS} after it, or requests that keep missing their deadline with nothing answering
 * for three request deadlines (at least 3 s). A late answer alone is logged at debug with this process's event-loop
 * lag (a busy process is not a slow etcd); late answers that go on are one warning a minute, with the
 * p99 latency. Each transition is logged once, as a warning, however many parts of the registry notice
 * it. Until etcd first answers (while `connect()` retries) failures are `connect()`'s to report.
 * @internal
 */
export class ConnectionHealth {
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #lag: LoopLag;
  readonly #latency: LatencyWindow;
  readonly #state: BehaviorSubject<Health>;
  readonly #silenceMs: number;
  #everConnected = false;
  #closed = false;
  readonly #createdAt: number;
  /** When etcd last answered anything (`clock.now()`). */
  #lastAnswer = 0;
  /** Long-lived streams open (watches, lease keepalives). */
  #streams = 0;
  #suspicion: Suspicion = NO_SUSPICION;
  #slow: SlowEpisode | undefined;
  #lateLoggedAt = -Infinity;
  #degradedLoggedAt = -Infinity;
  #probe: (() => Promise<void>) | undefined;
  #probing = false;
  /** The current state, then every transition. */
  readonly state$: Observable<Health>;

  /**
   * @param options.requestTimeoutMs The deadline of each request: lateness that goes on for three of
   *   them is a loss.
   * @param options.lag How the event loop's lag is measured: Node's monitor by default.
   */
  constructor(
    logger: Logger,
    clock: Clock,
    options: { readonly requestTimeoutMs?: number; readonly lag?: LoopLag } = {},
  ) {
    this.#logger = logger;
    this.#clock = clock;
    this.#lag = options.lag ?? new EventLoopLag(clock);
    this.#silenceMs = Math.max(
      SILENCE_LOSS_MIN_MS,
      SILENCE_DEADLINES * (options.requestTimeoutMs ?? 0),
    );
    this.#latency = new LatencyWindow(clock);
    this.#createdAt = clock.now();
    this.#state = new BehaviorSubject<Health>(
      Object.freeze({ connected: false, since: new Date(clock.now()) }),
    );
    this.state$ = this.#state.asObservable();
  }

  /** What health says now. */
  get current(): Health {
    return this.#state.value;
  }

  get connected(): boolean {
    return this.#state.value.connected;
  }

  /**
   * How long etcd has said nothing to this registry, in milliseconds (since it was made, before the
   * first answer): how old a list kept through an outage may be.
   */
  silenceMs(): number {
    return this.#clock.now() - (this.#lastAnswer === 0 ? this.#createdAt : this.#lastAnswer);
  }

  /** Something succeeded against etcd: a request, a watch response, a keepalive answer. */
  up(): void {
    this.#lastAnswer = this.#clock.now();
    this.#clear();
    const current = this.#state.value;
    if (!current.connected && !this.#closed) {
      if (this.#everConnected) {
        const downMs = this.#clock.now() - current.since.getTime();
        // A warning, as its loss was: an outage is reported whole at the default level.
        this.#logger.warn(`connection to etcd restored after ${downMs}ms`);
      }
      this.#everConnected = true;
      this.#state.next(Object.freeze({ connected: true, since: new Date(this.#clock.now()) }));
    }
  }

  /**
   * A connection or stream to etcd failed in a way that retrying may fix (refused, reset, keepalive
   * pings unanswered, no leader): lost, unless etcd answers within {@link LOSS_CONFIRM_MS}.
   */
  down(cause: unknown): void {
    if (!this.#watching()) {
      return;
    }
    const { kind } = this.#suspicion;
    if (kind === 'failed') {
      return;
    }
    // Evidence of a failure shortens the wait of mere lateness; the silence already counts.
    const since = kind === 'late' ? this.#suspicion.since : this.#clock.now();
    const deadline = Math.min(this.#clock.now() + LOSS_CONFIRM_MS, since + this.#silenceMs);
    this.#suspect('failed', since, cause, deadline);
  }

  /**
   * A request got no answer within its deadline. Alone, no loss: logged at debug with this process's
   * event-loop lag; lost only if nothing answers for three request deadlines (at least 3 s).
   */
  late(cause: unknown): void {
    const now = this.#clock.now();
    const lagMs = this.#lag.recentMs();
    this.#noteSlow(now, cause, lagMs);
    if (!this.#watching() || this.#suspicion.kind !== 'none') {
      return;
    }
    this.#suspect('late', now, cause, now + this.#silenceMs);
  }

  /**
   * How to ask etcd whether it answers (a cheap read whose outcome reaches health through the port):
   * while a loss is suspected, health asks every {@link SUSPECT_PROBE_MS} itself, so that the verdict
   * rests on a question asked after the doubt began, even when nothing else talks to etcd.
   */
  probeWith(probe: () => Promise<void>): void {
    this.#probe = probe;
  }

  /** A request (not a stream) ended after `ms` milliseconds, whatever its outcome. */
  requestEnded(ms: number): void {
    this.#latency.record(ms);
  }

  /**
   * A long-lived stream (a watch, a lease keepalive) is open. While one is, gRPC's keepalive pings on its
   * connection notice a dead etcd (the stream then fails and reports {@link ConnectionHealth.down})
   * without costing etcd a single request.
   */
  streamOpened(): void {
    this.#streams += 1;
  }

  /** A stream counted by {@link ConnectionHealth.streamOpened} has closed. */
  streamClosed(): void {
    this.#streams -= 1;
  }

  /**
   * Whether asking etcd would tell anything that traffic has not: while disconnected or suspecting a
   * loss (to notice the recovery, or to settle the doubt), or when no stream is open and nothing proved
   * etcd answers within the last `intervalMs`.
   */
  needsProbe(intervalMs: number): boolean {
    return (
      !this.connected ||
      this.#suspicion.kind !== 'none' ||
      (this.#streams === 0 && this.#clock.now() - this.#lastAnswer >= intervalMs)
    );
  }

  /** Completes `state$` and stops measuring. */
  close(): void {
    this.#closed = true;
    this.#clear();
    this.#lag.close();
    this.#state.complete();
  }

  /** Whether a failure now could change the state: connected, open, and past `connect()`. */
  #watching(): boolean {
    return this.#state.value.connected && !this.#closed;
  }

  #suspect(kind: 'failed' | 'late', since: number, cause: unknown, deadline: number): void {
    this.#clear();
    const verdict = this.#clock.schedule(
      Math.max(0, deadline - this.#clock.now()),
      () => this.#lost(),
      { keepsAlive: false },
    );
    let probes: Cancel | undefined;
    const ask = (): void => {
      probes = this.#clock.schedule(SUSPECT_PROBE_MS, ask, { keepsAlive: false });
      if (this.#probe !== undefined && !this.#probing) {
        this.#probing = true;
        this.#probe()
          .catch(() => undefined) // Its outcome reached health through the port.
          .finally(() => (this.#probing = false));
      }
    };
    const cancel = (): void => {
      verdict();
      probes?.();
    };
    this.#suspicion = { kind, since, cause, cancel };
    ask();
  }

  #clear(): void {
    if (this.#suspicion.kind !== 'none') {
      this.#suspicion.cancel();
      this.#suspicion = NO_SUSPICION;
    }
  }

  /** Nothing answered since the suspicion began: the connection is lost. */
  #lost(): void {
    const suspicion = this.#suspicion;
    if (suspicion.kind === 'none' || !this.#watching()) {
      return;
    }
    this.#clear();
    const silentMs = this.#clock.now() - suspicion.since;
    const why =
      suspicion.kind === 'failed'
        ? messageOf(suspicion.cause)
        : `no answer for ${silentMs}ms: ${this.#slow?.misses ?? 1} requests missed their deadline, ` +
          `the last with ${messageOf(suspicion.cause)}; this process's event loop lagged up to ` +
          `${this.#lag.recentMs()}ms`;
    this.#logger.warn(`connection to etcd lost (${why}); retrying`);
    this.#state.next(
      Object.freeze({
        connected: false,
        since: new Date(suspicion.since),
        cause: suspicion.cause,
      }),
    );
  }

  /** Counts a late answer into the episode; says it at debug, and at warning when it goes on. */
  #noteSlow(now: number, cause: unknown, lagMs: number): void {
    if (this.#slow === undefined || now - this.#slow.lastMs > DEGRADED_INTERVAL_MS) {
      this.#slow = { since: now, lastMs: now, misses: 0 };
    }
    const slow = this.#slow;
    slow.misses += 1;
    slow.lastMs = now;
    if (now - this.#lateLoggedAt >= LATE_LOG_INTERVAL_MS) {
      this.#lateLoggedAt = now;
      this.#logger.debug(
        `etcd answered late (${messageOf(cause)}) while this process's event loop lagged ${lagMs}ms; ` +
          `retried, and not a lost connection unless nothing answers for ${this.#silenceMs}ms`,
      );
    }
    if (
      this.#watching() &&
      now - slow.since >= DEGRADED_AFTER_MS &&
      now - this.#degradedLoggedAt >= DEGRADED_INTERVAL_MS
    ) {
      this.#degradedLoggedAt = now;
      const p99 = this.#latency.quantileMs(0.99);
      this.#logger.warn(
        `etcd is slow: ${slow.misses} requests missed their deadline in the last ` +
          `${Math.round((now - slow.since) / 1000)}s` +
          (p99 === undefined ? '' : `; p99 request latency over the last minute ~${p99}ms`) +
          `; this process's event loop lagged up to ${lagMs}ms`,
      );
    }
  }
}
