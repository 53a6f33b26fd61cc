/**
 * A backend's load report, as gRPC's ORCA (`xds.data.orca.v3.OrcaLoadReport`) carries it: how busy the
 * server is, for clients to weigh it by (gRFC A51). Utilizations are fractions (1 is fully busy; CPU may
 * pass 1 on several cores); rates are per second.
 */
export interface OrcaReport {
  /** The process's CPU use, of the cores it may use: 0.5 is half of them busy. */
  readonly cpuUtilization?: number;
  /** Memory in use, of what the process may use, in [0, 1]. */
  readonly memUtilization?: number;
  /** What the application says its utilization is (queue depth, workers busy): weighted round robin prefers it to CPU. */
  readonly applicationUtilization?: number;
  /** Requests answered per second. */
  readonly qps?: number;
  /** Errors answered per second. */
  readonly eps?: number;
  /** The application's own figures, by name. */
  readonly namedMetrics?: Readonly<Record<string, number>>;
}
