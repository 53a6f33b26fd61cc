import { relative } from 'node:path';
import winston, { format, type Logger } from 'winston';
import type { GsrConfig } from '../config/GsrConfig';
import { maskCredentials } from '../text/maskCredentials';

/** The settings {@link createLogger} reads: the `GSR_LOG_*` variables' values. */
export type LogSettings = Pick<GsrConfig, 'logLevel' | 'logMicroseconds' | 'logFileTrace'>;

/**
 * GSR_LOG_LEVEL 0..3+ on winston's npm levels. Level 0, the default, shows warnings too: losing etcd,
 * losing a lease and registering again are what a user wants to see without asking.
 */
const LEVELS = ['warn', 'info', 'debug', 'silly'] as const;
const OWN_FIELDS = new Set(['level', 'message', 'timestamp', 'source']);

/**
 * The logger gsr writes to when the application gives none: one line per record on stderr,
 * `<timestamp> <level> gsr: <message> {fields}`, honouring GSR_LOG_LEVEL, GSR_LOG_MICROSECONDS and
 * GSR_LOG_FILE_TRACE.
 *
 * @param stream Where to write; stderr by default.
 * @example
 * ```ts
 * const logger = createLogger({ logLevel: 2, logMicroseconds: true, logFileTrace: false });
 * const registry = await Registry.connect({ logger });
 * ```
 */
export function createLogger(
  settings: LogSettings,
  stream: NodeJS.WritableStream = process.stderr,
): Logger {
  return winston.createLogger({
    level: LEVELS[Math.min(settings.logLevel, LEVELS.length - 1)] ?? 'warn',
    format: format.combine(
      format.timestamp(settings.logMicroseconds ? { format: microsecondTimestamp } : {}),
      ...(settings.logFileTrace ? [callSite()] : []),
      format.printf(line),
    ),
    transports: [
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston types transports as interface + constructor
      new winston.transports.Stream({ stream }),
    ],
  });
}

function line(info: winston.Logform.TransformableInfo): string {
  const fields = Object.fromEntries(Object.entries(info).filter(([key]) => !OWN_FIELDS.has(key)));
  const extra = Object.keys(fields).length > 0 ? ` ${fieldsAsJson(fields)}` : '';
  const source = typeof info.source === 'string' ? ` (${info.source})` : '';
  // Whatever a message or a field echoes, a password in it is not written to a log.
  return maskCredentials(
    `${String(info.timestamp)} ${info.level} gsr: ${String(info.message)}${extra}${source}`,
  );
}

/** Fields as JSON; logging must never throw, whatever a caller passes. */
function fieldsAsJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_key, value: unknown) => {
      if (value instanceof Error) {
        return `${value.name}: ${value.message}`;
      }
      return typeof value === 'bigint' ? value.toString() : value;
    });
  } catch {
    return '{"fields":"(not serialisable)"}';
  }
}

/** ISO 8601 with six fractional digits; `Date` alone only has milliseconds. */
function microsecondTimestamp(): string {
  const now = performance.timeOrigin + performance.now();
  const micros = Math.floor((now % 1) * 1000);
  return new Date(Math.floor(now))
    .toISOString()
    .replace('Z', `${String(micros).padStart(3, '0')}Z`);
}

/**
 * Adds `source: file:line` of the code that logged. winston runs formats synchronously inside the
 * `logger.info()` call, so the first stack frame outside winston and this file is the caller.
 */
const callSite = format((info) => {
  // winston's own frames alone can exceed V8's default limit of 10.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const frames = (new Error().stack ?? '').split('\n').slice(1);
  Error.stackTraceLimit = limit;
  const caller = frames.find(
    (frame) =>
      !frame.includes('node_modules') &&
      !frame.includes('node:') &&
      !frame.includes(__filename) &&
      /\(?([^()\s]+):(\d+):\d+\)?$/.test(frame),
  );
  const match = caller === undefined ? null : /\(?([^()\s]+):(\d+):\d+\)?$/.exec(caller);
  if (match?.[1] !== undefined) {
    info.source = `${relative(process.cwd(), match[1])}:${match[2] ?? '?'}`;
  }
  return info;
});
