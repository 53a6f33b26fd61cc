import type { Etcd3 } from 'etcd3';
import type { EtcdCluster } from '../lib/testing';

/** Which implementation a run measures: gsr, or the hand-written etcd3 baseline. */
export type Side = 'gsr' | 'raw';

/** How big a run is: the sizes, or tiny ones for the CI smoke run. */
export interface Sizes {
  readonly repetitions: number;
  readonly latencySamples: number;
  readonly fanOutSubscribers: number;
  readonly fanOutSamples: number;
  readonly registrations: number;
  readonly largeService: number;
  readonly churnChanges: number;
  readonly services: number;
  /** Endpoints of the huge service (first list, and one change delivered to many subscribers). */
  readonly hugeService: number;
  /** Subscribers of the huge service that one change is delivered to. */
  readonly hugeSubscribers: number;
  /** Service names subscribed once and released, for the heap they leave. */
  readonly releasedServices: number;
  /** One-off reads of the large service while it is watched, per repetition. */
  readonly fencedReads: number;
  /** Runs of each command per repetition, for the CLI's start-up. */
  readonly cliSamples: number;
  /** How long an idle process is watched for the requests it costs etcd. */
  readonly idleSeconds: number;
  /** How long instances are cut off from etcd (past their 3 s lease). */
  readonly cutSeconds: number;
  /** How long etcd is unreachable for everyone in the outage scenario. */
  readonly outageSeconds: number;
}

/** What every scenario gets. */
export interface BenchContext {
  readonly etcd: EtcdCluster;
  /** A separate client that plays "another process" writing to etcd. */
  readonly writer: Etcd3;
  readonly sizes: Sizes;
}

/** How one figure is reduced over repetitions, and what it is held to. */
export interface Metric {
  readonly key: string;
  readonly label: string;
  readonly unit: 'ms' | 'ns' | 'MiB' | 'KiB' | 'B' | 'count' | '/min';
  /** `p50`/`p99` pool every repetition's samples; `median` takes the median of per-repetition values. */
  readonly reduce: 'p50' | 'p99' | 'median';
  /** The largest acceptable gsr/raw ratio, if the issue sets one. */
  readonly maxRatio?: number;
  /** The largest acceptable figure for gsr, in `unit`, if the issue sets an absolute target. */
  readonly maxValue?: number;
}

/** One measured figure per metric key: a value, or samples. */
export type Measurement = Record<string, number | readonly number[]>;

/** A benchmark: the same job done by gsr and by the raw client. */
export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly metrics: readonly Metric[];
  /** Before every run of either side, unmeasured: shared data (e.g. 10,000 keys) in its start state. */
  readonly prepare?: (context: BenchContext) => Promise<void>;
  readonly run: (context: BenchContext, side: Side, repetition: number) => Promise<Measurement>;
  /** How many repetitions, when not the run's: a scenario that takes long and varies little. */
  readonly repetitions?: (sizes: Sizes) => number;
  /** Facts that are not ratios (e.g. gRPC streams opened), printed under the table. */
  readonly notes?: (results: Record<Side, readonly Measurement[]>) => string[];
}
