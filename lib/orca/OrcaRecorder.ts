import { availableParallelism } from 'node:os';
import type { ServerResponse } from 'node:http';
import { type Clock, systemClock } from '../etcd/Clock';
import { ORCA_HEADER, encodeOrcaReport } from './orcaCodec';
import type { OrcaReport } from './OrcaReport';

/** Options of an {@link OrcaRecorder}. */
export interface OrcaRecorderOptions {
  /** How often the process's CPU use is sampled, ms. @default 1000 */
  readonly sampleMs?: number;
  /** Over how many seconds requests and errors per second are counted. @default 10 */
  readonly windowSeconds?: number;
  /** Where time comes from (tests give a virtual one). @internal */
  readonly clock?: Clock;
  /** What CPU use is read from: `process.cpuUsage` (tests give their own). @internal */
  readonly cpuUsage?: () => { readonly user: number; readonly system: number };
}

/**
 * The server side of load reports (gRFC A51): samples this process's CPU use, counts requests and
 * errors per second over a sliding window, holds what the application says of itself (its own
 * utilization, named metrics), and puts it all on responses as `endpoint-load-metrics-bin`, the
 * header Envoy, gRPC and gsr's `Balancer` read. Its sampling timer never keeps the process alive.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { OrcaRecorder } from 'gsr/orca';
 *
 * const orca = new OrcaRecorder();
 * createServer((request, response) => {
 *   orca.track(response); // the report on this response; the request counted when it ends
 *   response.end('ok');
 * }).listen(8080);
 * ```
 */
export class OrcaRecorder {
  readonly #clock: Clock;
  readonly #cpuUsage: () => { readonly user: number; readonly system: number };
  readonly #sampleMs: number;
  readonly #cores = availableParallelism();
  /** Requests and errors per second of the window, by second (a ring). */
  readonly #requests: number[];
  readonly #errors: number[];
  /** The second the ring's newest bucket counts, and when counting began. */
  #second: number;
  readonly #started: number;
  #cpu: number | undefined;
  #lastCpu: { readonly at: number; readonly usage: { user: number; system: number } };
  #application: number | undefined;
  #memory: number | undefined;
  readonly #named = new Map<string, number>();
  #stop: (() => void) | undefined;
  /** The last report encoded, until something changes. */
  #header: string | undefined;

  constructor(options: OrcaRecorderOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#cpuUsage = options.cpuUsage ?? (() => process.cpuUsage());
    this.#sampleMs = options.sampleMs ?? 1000;
    const window = options.windowSeconds ?? 10;
    this.#requests = new Array<number>(window).fill(0);
    this.#errors = new Array<number>(window).fill(0);
    this.#started = this.#clock.now();
    this.#second = Math.floor(this.#started / 1000);
    this.#lastCpu = { at: this.#started, usage: this.#cpuUsage() };
    this.#schedule();
  }

  /** Says the application's own utilization (a fraction: 1 is fully busy), until said again. */
  setApplicationUtilization(utilization: number): void {
    this.#application = figure(utilization, 'utilization');
    this.#header = undefined;
  }

  /** Says the memory in use, of what the process may use, in [0, 1]. */
  setMemoryUtilization(utilization: number): void {
    this.#memory = Math.min(1, figure(utilization, 'utilization'));
    this.#header = undefined;
  }

  /** Sets one of the application's own named figures. */
  setNamedMetric(name: string, value: number): void {
    this.#named.set(name, figure(value, name));
    this.#header = undefined;
  }

  /** Counts one request that ended, an error or not (a 5xx, a failed call). */
  count(ok: boolean): void {
    this.#advance();
    const at = this.#second % this.#requests.length;
    this.#requests[at] = (this.#requests[at] ?? 0) + 1;
    if (!ok) {
      this.#errors[at] = (this.#errors[at] ?? 0) + 1;
    }
    this.#header = undefined;
  }

  /** The report now. */
  report(): OrcaReport {
    this.#advance();
    const seconds = Math.max(
      1,
      Math.min(this.#requests.length, (this.#clock.now() - this.#started) / 1000),
    );
    const sum = (ring: readonly number[]): number => ring.reduce((total, n) => total + n, 0);
    return {
      ...(this.#cpu !== undefined && { cpuUtilization: this.#cpu }),
      ...(this.#memory !== undefined && { memUtilization: this.#memory }),
      ...(this.#application !== undefined && { applicationUtilization: this.#application }),
      qps: sum(this.#requests) / seconds,
      eps: sum(this.#errors) / seconds,
      ...(this.#named.size > 0 && { namedMetrics: Object.fromEntries(this.#named) }),
    };
  }

  /** The report as the value of an `endpoint-load-metrics-bin` header: base64 of the proto. */
  header(): string {
    this.#header ??= Buffer.from(encodeOrcaReport(this.report())).toString('base64');
    return this.#header;
  }

  /**
   * Puts the report on `response` and counts the request when the response ends (a 5xx, or a
   * response that closed unfinished, as an error).
   */
  track(response: ServerResponse): void {
    if (!response.headersSent) {
      response.setHeader(ORCA_HEADER, this.header());
    }
    response.once('close', () =>
      this.count(response.writableFinished && response.statusCode < 500),
    );
  }

  /** Stops sampling. */
  close(): void {
    this.#stop?.();
    this.#stop = undefined;
  }

  /** Moves the window to the current second, emptying the seconds that passed. */
  #advance(): void {
    const second = Math.floor(this.#clock.now() / 1000);
    const passed = Math.min(second - this.#second, this.#requests.length);
    for (let i = 1; i <= passed; i++) {
      const at = (this.#second + i) % this.#requests.length;
      this.#requests[at] = 0;
      this.#errors[at] = 0;
    }
    this.#second = Math.max(this.#second, second);
  }

  #schedule(): void {
    this.#stop = this.#clock.schedule(
      this.#sampleMs,
      () => {
        this.#sample();
        if (this.#stop !== undefined) {
          this.#schedule();
        }
      },
      { keepsAlive: false },
    );
  }

  #sample(): void {
    const now = this.#clock.now();
    const usage = this.#cpuUsage();
    const elapsedMicros = (now - this.#lastCpu.at) * 1000 * this.#cores;
    if (elapsedMicros > 0) {
      const used =
        usage.user - this.#lastCpu.usage.user + (usage.system - this.#lastCpu.usage.system);
      this.#cpu = Math.max(0, used / elapsedMicros);
      this.#header = undefined;
    }
    this.#lastCpu = { at: now, usage };
  }
}

/** A figure the application gives: finite and ≥ 0, else a TypeError naming it. */
function figure(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(
      `Expected \`${name}\` to be a finite number >= 0, got \`${String(value)}\``,
    );
  }
  return value;
}
