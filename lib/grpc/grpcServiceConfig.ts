import type { WeightedRoundRobinOptions } from '../balancing/LoadWeight';
/** Outlier detection for grpc-js channels: see {@link grpcServiceConfig}. */
export interface GrpcOutlierDetection {
  /**
   * How often the ejection analysis runs, ms.
   * @default 1000
   */
  readonly intervalMs?: number;
  /**
   * How long an endpoint is ejected the first time, ms (longer each time).
   * @default 5000
   */
  readonly baseEjectionMs?: number;
  /**
   * The longest ejection, ms.
   * @default 60000
   */
  readonly maxEjectionMs?: number;
  /**
   * Never more than this share of the endpoints ejected.
   * @default 50
   */
  readonly maxEjectionPercent?: number;
  /**
   * An endpoint whose calls failed more than this percentage within an interval is ejected...
   * @default 50
   */
  readonly failurePercentage?: number;
  /**
   * ...once it had at least this many calls in the interval...
   * @default 10
   */
  readonly requestVolume?: number;
  /**
   * ...and the service has at least this many endpoints.
   * @default 2
   */
  readonly minimumHosts?: number;
}

/** A duration as grpc-js 1.14's outlier detection takes it: `{ seconds, nanos }`, not `"1s"`. */
const duration = (ms: number) => ({
  seconds: Math.floor(ms / 1000),
  nanos: Math.round((ms % 1000) * 1e6),
});

/**
 * The `grpc.service_config` for a channel on `gsr:///<service>`: `round_robin` (grpc-js's default,
 * `pick_first`, sends every call to one endpoint), and with `outlierDetection`, grpc-js's outlier
 * detection (gRFC A50) around it, which ejects an endpoint that answers but fails. (round_robin alone
 * already skips an endpoint that cannot be connected to.)
 *
 * It writes durations as grpc-js 1.14 reads them (`{ seconds, nanos }` objects: the string form
 * `"5s"` of gRPC's JSON is refused by its outlier detection).
 *
 * @example
 * ```ts
 * const client = new GreeterClient(target('greeter'), grpc.credentials.createInsecure(), {
 *   'grpc.service_config': grpcServiceConfig({ outlierDetection: { baseEjectionMs: 10_000 } }),
 * });
 * ```
 */
export function grpcServiceConfig(
  options: {
    readonly outlierDetection?: GrpcOutlierDetection | boolean;
    /**
     * grpc-js's own `weighted_round_robin` (gRFC A58) in place of `round_robin`, with these settings
     * (gsr's Balancer's, by the same names): endpoints weighed by the load reports servers put on
     * their answers (`endpoint-load-metrics-bin`, e.g. with gsr/orca's `encodeOrcaReport`).
     */
    readonly weightedRoundRobin?: WeightedRoundRobinOptions | boolean;
  } = {},
): string {
  const wrr = options.weightedRoundRobin === true ? {} : options.weightedRoundRobin;
  const roundRobin =
    wrr === undefined || wrr === false
      ? { round_robin: {} }
      : {
          weighted_round_robin: {
            ...(wrr.blackoutPeriodMs !== undefined && {
              blackout_period: duration(wrr.blackoutPeriodMs),
            }),
            ...(wrr.weightExpirationPeriodMs !== undefined && {
              weight_expiration_period: duration(wrr.weightExpirationPeriodMs),
            }),
            ...(wrr.weightUpdatePeriodMs !== undefined && {
              weight_update_period: duration(wrr.weightUpdatePeriodMs),
            }),
            ...(wrr.errorUtilizationPenalty !== undefined && {
              error_utilization_penalty: wrr.errorUtilizationPenalty,
            }),
          },
        };
  const { outlierDetection } = options;
  if (outlierDetection === undefined || outlierDetection === false) {
    return JSON.stringify({ loadBalancingConfig: [roundRobin] });
  }
  const o = outlierDetection === true ? {} : outlierDetection;
  return JSON.stringify({
    loadBalancingConfig: [
      {
        outlier_detection: {
          interval: duration(o.intervalMs ?? 1000),
          base_ejection_time: duration(o.baseEjectionMs ?? 5000),
          max_ejection_time: duration(o.maxEjectionMs ?? 60_000),
          max_ejection_percent: o.maxEjectionPercent ?? 50,
          failure_percentage_ejection: {
            threshold: o.failurePercentage ?? 50,
            enforcement_percentage: 100,
            minimum_hosts: o.minimumHosts ?? 2,
            request_volume: o.requestVolume ?? 10,
          },
          child_policy: [roundRobin],
        },
      },
    ],
  });
}
