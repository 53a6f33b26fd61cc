import type { Endpoint } from '../endpoint/Endpoint';
import type { EndpointRecord, LatencyPolicy } from './EndpointRecord';

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

/** What `record` tells of its endpoint at `now`, frozen. @internal */
export function statsOf(
  record: EndpointRecord,
  now: number,
  latency: LatencyPolicy,
): EndpointStats {
  const latencyMs = record.latency(now, latency);
  const ejection = record.ejection;
  const until =
    ejection.kind === 'out'
      ? ejection.until
      : ejection.kind === 'probation'
        ? ejection.since
        : undefined;
  return Object.freeze({
    endpoint: record.endpoint,
    weight: record.declaredWeight,
    inFlight: record.inFlight,
    successes: record.successes,
    failures: record.failures,
    consecutiveFailures: record.consecutiveFailures,
    ...(latencyMs !== undefined && { latencyMs }),
    ejected: until !== undefined,
    ...(until !== undefined && { ejectedUntil: new Date(until) }),
    probation: until !== undefined && now >= until,
  });
}
