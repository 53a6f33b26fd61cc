import type { Measurement, Metric, Scenario, Side } from './Scenario';
import { median, quantile } from './stats';

/** One row of the table. */
export interface Row {
  readonly scenario: string;
  readonly metric: string;
  readonly unit: Metric['unit'];
  readonly gsr: number;
  readonly raw: number;
  readonly ratio: number;
  readonly maxRatio: number | undefined;
  readonly maxValue: number | undefined;
  readonly ok: boolean | undefined;
}

/** Reduces every run's measurements to one figure per side and metric. */
export function rows(scenario: Scenario, results: Record<Side, readonly Measurement[]>): Row[] {
  return scenario.metrics.map((metric) => {
    const reduce = (side: Side): number => {
      const values = results[side].map((m) => m[metric.key] ?? NaN);
      if (metric.reduce === 'median') {
        return median(values as number[]);
      }
      const pooled = values.flatMap((v) => (typeof v === 'number' ? [v] : [...v]));
      return quantile(pooled, metric.reduce === 'p50' ? 0.5 : 0.99);
    };
    const gsr = reduce('gsr');
    const raw = reduce('raw');
    const ratio = gsr / raw;
    return {
      scenario: scenario.name,
      metric: metric.label,
      unit: metric.unit,
      gsr,
      raw,
      ratio,
      maxRatio: metric.maxRatio,
      maxValue: metric.maxValue,
      ok:
        metric.maxRatio !== undefined
          ? ratio <= metric.maxRatio
          : metric.maxValue !== undefined
            ? gsr <= metric.maxValue
            : undefined,
    };
  });
}

/** The table, as text. */
export function table(all: readonly Row[]): string {
  const format = (value: number, unit: Row['unit']): string =>
    unit === 'count'
      ? String(Math.round(value))
      : unit === '/min'
        ? `${value.toFixed(1)}/min`
        : `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`;
  const lines = all.map((row) => [
    `${row.scenario}: ${row.metric}`,
    format(row.gsr, row.unit),
    format(row.raw, row.unit),
    Number.isFinite(row.ratio) ? row.ratio.toFixed(2) : '-',
    row.maxRatio !== undefined
      ? `<= ${row.maxRatio.toFixed(2)} ${row.ok === true ? 'met' : 'MISSED'}`
      : row.maxValue !== undefined
        ? `gsr <= ${format(row.maxValue, row.unit)} ${row.ok === true ? 'met' : 'MISSED'}`
        : '',
  ]);
  const header = ['scenario: figure', 'gsr', 'raw etcd3', 'gsr/raw', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const render = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ');
  return [render(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(render)].join(
    '\n',
  );
}
