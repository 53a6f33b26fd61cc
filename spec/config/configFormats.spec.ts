import { configFormats, MAX_SECONDS, type ConfigFormat } from '../../lib/config/configFormats';

/** What convict does with a value: coerce the text of a variable, then validate. */
function read(format: ConfigFormat, raw: unknown): unknown {
  const { coerce, validate } = configFormats[format] as {
    coerce?: (text: string) => unknown;
    validate: (value: unknown) => void;
  };
  const value = typeof raw === 'string' && coerce !== undefined ? coerce(raw) : raw;
  validate(value);
  return value;
}

describe('gsr-lease-seconds', () => {
  it.each([
    ['1', 1],
    [' 60 ', 60],
    [5, 5],
    [String(MAX_SECONDS), MAX_SECONDS],
  ])('reads %j', (raw, value) => expect(read('gsr-lease-seconds', raw)).toBe(value));
  it.each([['0'], ['-5'], ['abc'], ['1.5'], [0], [2.5], [NaN], [true], ['1e3']])(
    'rejects %j',
    (raw) =>
      expect(() => read('gsr-lease-seconds', raw)).toThrow('expected a whole number of at least 1'),
  );
  it('rejects what a Node timer cannot hold, naming the maximum', () => {
    expect(() => read('gsr-lease-seconds', String(MAX_SECONDS + 1))).toThrow(
      `at most ${MAX_SECONDS} (Node's timers hold at most 2^31-1 ms)`,
    );
  });
});

describe('gsr-log-level', () => {
  it.each([
    ['0', 0],
    ['3', 3],
    [7, 7],
  ])('reads %j', (raw, value) => expect(read('gsr-log-level', raw)).toBe(value));
  it.each([['-1'], ['x'], [-1], ['1.5']])('rejects %j', (raw) =>
    expect(() => read('gsr-log-level', raw)).toThrow('at least 0'),
  );
});

describe('gsr-seconds', () => {
  it.each([
    ['2', 2],
    ['0.5', 0.5],
    ['.25', 0.25],
    [300, 300],
  ])('reads %j', (raw, value) => expect(read('gsr-seconds', raw)).toBe(value));
  it.each([['0'], ['-1'], ['abc'], [0], [Infinity], ['1s']])('rejects %j', (raw) =>
    expect(() => read('gsr-seconds', raw)).toThrow('greater than 0'),
  );
  it.each([[MAX_SECONDS + 0.5], ['3000000'], [1e12]])(
    'rejects %j: more than a Node timer holds',
    (raw) => expect(() => read('gsr-seconds', raw)).toThrow(`at most ${MAX_SECONDS}`),
  );
});

describe('gsr-boolean', () => {
  it.each(['1', 't', 'TRUE', 'true', 'True', 'yes', 'on', ' true '])('reads %j as true', (raw) =>
    expect(read('gsr-boolean', raw)).toBe(true),
  );
  it.each(['0', 'f', 'FALSE', 'false', 'no', 'off'])('reads %j as false', (raw) =>
    expect(read('gsr-boolean', raw)).toBe(false),
  );
  it('passes booleans through', () => {
    expect(read('gsr-boolean', true)).toBe(true);
    expect(read('gsr-boolean', false)).toBe(false);
  });
  it.each([['maybe'], ['2'], [1], [null]])('rejects %j', (raw) =>
    expect(() => read('gsr-boolean', raw)).toThrow('expected true or false'),
  );
});

describe('gsr-text', () => {
  it('reads strings', () => {
    expect(read('gsr-text', '/etc/x')).toBe('/etc/x');
  });
  it.each([['  '], [3]])('rejects %j', (raw) => {
    expect(() => read('gsr-text', raw)).toThrow('non-empty string');
  });
});

/** The one format where empty means something: `GSR_SNAPSHOT_DIR=''` turns snapshots off. */
const EMPTY_MEANS_OFF = ['gsr-directory'];

describe('every format', () => {
  it.each(Object.keys(configFormats).filter((format) => !EMPTY_MEANS_OFF.includes(format)))(
    '%s says that an empty value is set but empty',
    (format) => {
      expect(() => read(format as ConfigFormat, '')).toThrow('is set but empty');
    },
  );
});

describe('gsr-directory', () => {
  it("takes '' (off) and any path, and refuses a NUL byte or a non-string", () => {
    expect(read('gsr-directory', '')).toBe('');
    expect(read('gsr-directory', '/var/cache/gsr')).toBe('/var/cache/gsr');
    expect(() => read('gsr-directory', 'a\u0000b')).toThrow("expected a directory's path");
  });
});
