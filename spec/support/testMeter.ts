import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';

/** A reader that collects when asked, as an exporter would at its interval. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** One data point: a sum's or gauge's value, or a histogram's count. */
export interface Point {
  readonly attributes: Attributes;
  readonly value: number;
}

/** A meter provider of OpenTelemetry's SDK, read on demand, for specs of what gsr records. */
export interface TestMeter {
  readonly provider: MeterProvider;
  /** Collects now: every instrument's data points by instrument name. */
  read(): Promise<ReadonlyMap<string, readonly Point[]>>;
  /** The value of `name`'s point whose attributes include `attributes` (undefined when none). */
  value(name: string, attributes?: Attributes): Promise<number | undefined>;
  shutdown(): Promise<void>;
}

/**
 * With `delta`, each reading holds only what was recorded (or observed) since the last one: what a
 * closed registry stops reporting shows; by default readings are cumulative, as Prometheus reads them.
 */
export function testMeter(temporality: 'cumulative' | 'delta' = 'cumulative'): TestMeter {
  const reader = new CollectingReader({
    aggregationTemporalitySelector: () =>
      temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE,
  });
  const provider = new MeterProvider({ readers: [reader] });
  const read = async (): Promise<ReadonlyMap<string, readonly Point[]>> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) {
      throw errors[0];
    }
    const byName = new Map<string, Point[]>();
    for (const metric of resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)) {
      byName.set(
        metric.descriptor.name,
        metric.dataPoints.map((point) => ({
          attributes: point.attributes,
          value:
            metric.dataPointType === DataPointType.HISTOGRAM
              ? (point.value as { count: number }).count
              : (point.value as number),
        })),
      );
    }
    return byName;
  };
  return {
    provider,
    read,
    async value(name, attributes = {}) {
      const points = (await read()).get(name) ?? [];
      return points.find((point) =>
        Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
      )?.value;
    },
    shutdown: () => provider.shutdown(),
  };
}
