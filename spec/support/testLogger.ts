import { PassThrough } from 'node:stream';
import winston, { type Logger } from 'winston';

/** A winston logger that keeps what gsr logs (at every level) for assertions, instead of printing it. */
export function testLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new PassThrough({ objectMode: true });
  stream.on('data', (info: winston.Logform.TransformableInfo) => {
    lines.push(`${info.level}: ${String(info.message)}`);
  });
  const logger = winston.createLogger({
    level: 'silly',
    transports: [
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston types transports as interface + constructor
      new winston.transports.Stream({ stream }),
    ],
  });
  return { logger, lines };
}
