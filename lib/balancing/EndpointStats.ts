import type { Endpoint } from '../endpoint/Endpoint';

/** What a {@link Balancer} knows of one endpoint, from the calls made through it. */
export interface EndpointStats {
  /** The endpoint, as the latest list has it. */
  readonly endpoint: Endpoint;
  /** From `metadata.weight` (1 when absent or invalid). */
  readonly weight: number;
  /** Calls in flight on it. */
  readonly inFlight: number;
  /** Calls that succeeded on it since it joined the list. */
  readonly successes: number;
  /** Calls that failed on it since it joined the list. */
  readonly failures: number;
  /** Failures since its last success. */
  readonly consecutiveFailures: number;
  /** Its peak-EWMA latency, ms, decayed to now; absent until a call was measured. */
  readonly latencyMs?: number;
  /** Whether it is out of the picks (ejected), or on probation (`probation`). */
  readonly ejected: boolean;
  /** While ejected: when its probation begins. */
  readonly ejectedUntil?: Date;
  /** Whether its ejection is over and one trial call decides whether it is readmitted. */
  readonly probation: boolean;
}
