import { LoadWeight } from './LoadWeight';
import type { Endpoint } from '../endpoint/Endpoint';
import { ADMITTED, type Ejection } from './Ejection';

/** How latency is learnt; see {@link BalancerOptions.latency}. @internal */
export interface LatencyPolicy {
  /** The peak-EWMA's time constant: how fast a past latency fades. */
  readonly decayMs: number;
  /** What an endpoint not measured yet is assumed to take. */
  readonly defaultMs: number;
}

/** How a call on an endpoint ended: when, after how long, and how. @internal */
interface EndedCall {
  readonly now: number;
  /** How long it took, when measured. */
  readonly latencyMs: number | undefined;
  /** Whether {@link EndpointRecord.started} counted it in flight (a `report()` after `pick()` is not). */
  readonly inFlight: boolean;
}

/**
 * What a balancer knows of one endpoint from the calls it made: calls in flight, outcomes, a peak-EWMA
 * of latency (a slower answer counts at once; a faster one pulls it down over `decayMs`, as Finagle and
 * linkerd do), and where it stands with outlier ejection ({@link Ejection}, which
 * {@link OutlierEjection} moves). Every method takes the time, so that it reads no clock.
 * @internal
 */
export class EndpointRecord {
  endpoint: Endpoint;
  /** Its `metadata.weight` (1 when absent or invalid), as the endpoint declares it. */
  declaredWeight: number;
  /** Its weight relative to the largest in the list (in (0, 1]): what picks use, and never overflows. */
  weight: number;
  inFlight = 0;
  successes = 0;
  failures = 0;
  consecutiveFailures = 0;
  /** Peak-EWMA latency, ms; `undefined` until measured. */
  #latency: number | undefined;
  #latencyAt = 0;
  /** Where it stands with outlier ejection. */
  ejection: Ejection = ADMITTED;
  /** While slow start ramps its weight: when the balancer first saw it. */
  arrivedAt: number | undefined;
  /** Slow start's factor of its weight, in (0, 1]: 1 once ramped up (or without slow start). */
  ramp = 1;
  /** Its weight from load reports, for weighted round robin. */
  readonly loadWeight = new LoadWeight();

  constructor(endpoint: Endpoint, declaredWeight: number) {
    this.endpoint = endpoint;
    this.declaredWeight = declaredWeight;
    this.weight = 1;
  }

  /** A call starts on it. */
  started(): void {
    this.inFlight += 1;
  }

  /** A call on it was abandoned by its caller: neither a success nor a failure. */
  abandoned(): void {
    this.inFlight -= 1;
  }

  /** A call on it succeeded. */
  succeeded(call: EndedCall, latency: LatencyPolicy): void {
    this.#ended(call, latency);
    this.successes += 1;
    this.consecutiveFailures = 0;
  }

  /** A call on it failed (whether that ejects it is {@link OutlierEjection.failed}'s to say). */
  failed(call: EndedCall, latency: LatencyPolicy): void {
    this.#ended(call, latency);
    this.failures += 1;
    this.consecutiveFailures += 1;
  }

  /** What ends every call, whatever its outcome: no longer in flight, and its latency measured. */
  #ended({ now, latencyMs, inFlight }: EndedCall, latency: LatencyPolicy): void {
    if (inFlight) {
      this.inFlight -= 1;
    }
    if (latencyMs !== undefined) {
      this.#sample(now, latencyMs, latency);
    }
  }

  /**
   * The latency estimate now, ms: the peak-EWMA, decayed towards zero since its last sample (so that an
   * endpoint avoided for being slow is tried again after a while, and measured afresh), or `undefined`
   * if never measured.
   */
  latency(now: number, policy: LatencyPolicy): number | undefined {
    return this.#latency === undefined
      ? undefined
      : this.#latency * Math.exp(-Math.max(0, now - this.#latencyAt) / policy.decayMs);
  }

  /**
   * tower's PeakEwma: a sample above the estimate replaces it; below, it pulls it by recency. A sample
   * is taken as at most {@link MAX_LATENCY_SAMPLE_MS}: one call reported to take 1e308 ms must not keep
   * its endpoint out of the picks for the hours such an estimate takes to decay.
   */
  #sample(now: number, reportedMs: number, policy: LatencyPolicy): void {
    const latencyMs = Math.min(reportedMs, MAX_LATENCY_SAMPLE_MS);
    const stored = this.#latency;
    if (stored === undefined || latencyMs > stored) {
      this.#latency = latencyMs;
    } else {
      const weight = Math.exp(-Math.max(0, now - this.#latencyAt) / policy.decayMs);
      this.#latency = stored * weight + latencyMs * (1 - weight);
    }
    this.#latencyAt = now;
  }
}

/** The longest latency a sample counts as: a minute, which decays to a few milliseconds in ~90 s. */
const MAX_LATENCY_SAMPLE_MS = 60_000;
