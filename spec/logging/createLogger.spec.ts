import { PassThrough } from 'node:stream';
import { createLogger } from '../../lib/logging/createLogger';

function capture(settings: Parameters<typeof createLogger>[0]) {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trimEnd().split('\n')));
  return { logger: createLogger(settings, stream), lines };
}

const quiet = { logLevel: 0, logMicroseconds: false, logFileTrace: false };

describe('createLogger', () => {
  it.each([
    [0, ['error', 'warn']],
    [1, ['error', 'warn', 'info']],
    [2, ['error', 'warn', 'info', 'debug']],
    [3, ['error', 'warn', 'info', 'debug', 'silly']],
    [9, ['error', 'warn', 'info', 'debug', 'silly']],
  ])('at GSR_LOG_LEVEL=%d writes %j', (logLevel, expected) => {
    const { logger, lines } = capture({ ...quiet, logLevel });
    for (const level of ['error', 'warn', 'info', 'debug', 'silly']) {
      logger.log(level, `a ${level} record`);
    }
    expect(lines.map((line) => /^\S+ (\w+) gsr: /.exec(line)?.[1])).toEqual(expected);
  });

  it('writes a timestamp, the level, the message and the fields', () => {
    const { logger, lines } = capture(quiet);
    logger.error('watch failed', { service: 'web', cause: new Error('boom') });
    expect(lines).toEqual([
      expect.stringMatching(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error gsr: watch failed {"service":"web","cause":"Error: boom"}$/,
      ),
    ]);
  });

  it('writes microsecond timestamps with GSR_LOG_MICROSECONDS', () => {
    const { logger, lines } = capture({ ...quiet, logMicroseconds: true });
    logger.error('x');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z error/);
  });

  it('writes the source file and line with GSR_LOG_FILE_TRACE', () => {
    const { logger, lines } = capture({ ...quiet, logFileTrace: true });
    logger.error('traced', { service: 'web' }); // the line below asserts this line's number
    const line = new Error().stack?.split('\n')[1]?.match(/:(\d+):\d+\)?$/)?.[1];
    expect(lines[0]).toMatch(
      new RegExp(
        `error gsr: traced .*\\(spec/logging/createLogger\\.spec\\.ts:${Number(line) - 1}\\)$`,
      ),
    );
  });
});

describe('createLogger, given awkward fields', () => {
  it('writes bigints as text and survives a cycle', () => {
    const { logger, lines } = capture({ logLevel: 0, logMicroseconds: false, logFileTrace: false });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    logger.error('a', { revision: 12n });
    logger.error('b', { cycle });
    expect(lines[0]).toMatch(/error gsr: a {"revision":"12"}$/);
    expect(lines[1]).toMatch(/error gsr: b {"fields":"\(not serialisable\)"}$/);
  });
});
