import { Field, MapField, Type } from 'protobufjs';
import { escapeText } from '../text/escapeText';
import type { OrcaReport } from './OrcaReport';

/** The header (HTTP) or trailer (gRPC) a load report travels in: base64 of the proto, as Envoy reads it. */
export const ORCA_HEADER = 'endpoint-load-metrics-bin';

/** The largest report read, encoded: a server that sends more is not read. */
export const MAX_REPORT_BYTES = 4096;
/** The most named metrics read from one report (the first by order on the wire). */
const MAX_NAMED_METRICS = 32;
/** Any figure above this is clamped to it: a report of 1e308 % CPU says "very busy", not more. */
const MAX_FIGURE = 1e9;

/** `xds.data.orca.v3.OrcaLoadReport`, its fields as gRPC numbers them. */
const ORCA = new Type('OrcaLoadReport')
  .add(new Field('cpu_utilization', 1, 'double'))
  .add(new Field('mem_utilization', 2, 'double'))
  .add(new Field('rps', 3, 'uint64'))
  .add(new MapField('request_cost', 4, 'string', 'double'))
  .add(new MapField('utilization', 5, 'string', 'double'))
  .add(new Field('rps_fractional', 6, 'double'))
  .add(new Field('eps', 7, 'double'))
  .add(new MapField('named_metrics', 8, 'string', 'double'))
  .add(new Field('application_utilization', 9, 'double'));

interface Wire {
  cpu_utilization?: number;
  mem_utilization?: number;
  rps_fractional?: number;
  eps?: number;
  application_utilization?: number;
  named_metrics?: Record<string, number>;
}

/**
 * `report` as the bytes of an `OrcaLoadReport`.
 *
 * @example
 * ```ts
 * response.setHeader(ORCA_HEADER, Buffer.from(encodeOrcaReport({ cpuUtilization: 0.4, qps: 120 })).toString('base64'));
 * ```
 */
export function encodeOrcaReport(report: OrcaReport): Uint8Array {
  const wire: Wire = {
    cpu_utilization: report.cpuUtilization,
    mem_utilization: report.memUtilization,
    application_utilization: report.applicationUtilization,
    rps_fractional: report.qps,
    eps: report.eps,
    named_metrics: report.namedMetrics && { ...report.namedMetrics },
  };
  return ORCA.encode(ORCA.fromObject(wire)).finish();
}

/**
 * The load report in `value` (its bytes, or their base64 as a header carries them), read as what
 * someone else wrote: more than 4 KiB, or bytes that are not the proto, is no report
 * (`undefined`, with one call of `warn` saying why); a figure that is not finite and ≥ 0 is left out,
 * one above 1e9 is clamped to it, and only the first 32 named metrics are read.
 *
 * @example
 * ```ts
 * const report = readOrcaReport(response.headers.get(ORCA_HEADER) ?? '', console.warn);
 * ```
 */
export function readOrcaReport(
  value: string | Uint8Array,
  warn: (message: string) => void = () => undefined,
): OrcaReport | undefined {
  if (
    (typeof value === 'string' ? (value.length * 3) / 4 : value.byteLength) >
    MAX_REPORT_BYTES + 3
  ) {
    warn(`a load report of more than ${MAX_REPORT_BYTES} bytes: not read`);
    return undefined;
  }
  const bytes = typeof value === 'string' ? Buffer.from(value, 'base64') : value;
  let wire: Wire;
  try {
    wire = ORCA.toObject(ORCA.decode(bytes), { defaults: false, longs: Number });
  } catch (error) {
    warn(
      `a load report that is not an OrcaLoadReport (${escapeText(String(error), 120)}): not read`,
    );
    return undefined;
  }
  const named = Object.entries(wire.named_metrics ?? {})
    .slice(0, MAX_NAMED_METRICS)
    .flatMap(([name, figure]) => {
      const read = figureOf(figure);
      return read === undefined ? [] : [[escapeText(name, 64), read] as const];
    });
  return dropUndefined({
    cpuUtilization: figureOf(wire.cpu_utilization),
    memUtilization: figureOf(wire.mem_utilization, 1),
    applicationUtilization: figureOf(wire.application_utilization),
    qps: figureOf(wire.rps_fractional),
    eps: figureOf(wire.eps),
    namedMetrics: named.length === 0 ? undefined : Object.fromEntries(named),
  });
}

/** A figure that is finite and ≥ 0, clamped to `max`; else `undefined`. */
function figureOf(value: unknown, max = MAX_FIGURE): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? Math.min(value, max)
    : undefined;
}

function dropUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}
