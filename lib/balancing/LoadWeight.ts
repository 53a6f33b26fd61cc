import type { OrcaReport } from '../orca/OrcaReport';

/** How weighted round robin turns load reports into weights: gRFC A58's settings. */
export interface WeightedRoundRobinOptions {
  /** A new weight counts only after this long of reports (a burst of one is not a trend), ms. @default 10000 */
  readonly blackoutPeriodMs?: number;
  /** A weight with no report for this long is forgotten, ms. @default 180000 */
  readonly weightExpirationPeriodMs?: number;
  /** How often the scheduler takes up new weights, ms (at least 100). @default 1000 */
  readonly weightUpdatePeriodMs?: number;
  /** How much an error per request adds to utilization: a server that fails fast loses its share. @default 1 */
  readonly errorUtilizationPenalty?: number;
}

/** {@link WeightedRoundRobinOptions} with every default filled in. @internal */
export type WrrPolicy = Required<WeightedRoundRobinOptions>;

/** gRFC A58's defaults, as grpc-js has them. @internal */
export const DEFAULT_WRR: WrrPolicy = Object.freeze({
  blackoutPeriodMs: 10_000,
  weightExpirationPeriodMs: 180_000,
  weightUpdatePeriodMs: 1_000,
  errorUtilizationPenalty: 1,
});

/** The largest weight kept: a report of 1e9 qps at 1e-9 utilization is not a reason to send it all. */
const MAX_WEIGHT = 1e9;

/**
 * One endpoint's weight from its load reports, by gRFC A58:
 *
 * ```text
 * utilization = application_utilization > 0 ? application_utilization : cpu_utilization
 * weight      = qps / (utilization + eps / qps × errorUtilizationPenalty)
 * ```
 *
 * A report with no qps or no utilization changes nothing. A weight counts after the blackout period
 * from its first report, and is forgotten (the blackout starts again) when no report came for the
 * expiration period.
 * @internal
 */
export class LoadWeight {
  #weight = 0;
  #nonEmptySince: number | undefined;
  #lastUpdated = -Infinity;

  /** Takes one report, at `now`. */
  update(report: OrcaReport, now: number, policy: WrrPolicy): void {
    const qps = report.qps ?? 0;
    let utilization =
      (report.applicationUtilization ?? 0) > 0
        ? (report.applicationUtilization ?? 0)
        : (report.cpuUtilization ?? 0);
    if (utilization > 0 && qps > 0) {
      utilization += ((report.eps ?? 0) / qps) * policy.errorUtilizationPenalty;
    }
    const weight = utilization > 0 ? Math.min(MAX_WEIGHT, qps / utilization) : 0;
    if (!(weight > 0)) {
      return;
    }
    this.#nonEmptySince ??= now;
    this.#lastUpdated = now;
    this.#weight = weight;
  }

  /** The weight to use at `now`: 0 while in blackout, expired, or never reported. */
  at(now: number, policy: WrrPolicy): number {
    if (now - this.#lastUpdated >= policy.weightExpirationPeriodMs) {
      this.#nonEmptySince = undefined;
      return 0;
    }
    if (
      policy.blackoutPeriodMs > 0 &&
      (this.#nonEmptySince === undefined || now - this.#nonEmptySince < policy.blackoutPeriodMs)
    ) {
      return 0;
    }
    return this.#weight;
  }
}
