import {
  boolean,
  nonEmptyString,
  nonNegativeInteger,
  optionalString,
  positiveInteger,
  positiveSeconds,
} from '../../lib/config/valueParsers';

describe('positiveInteger', () => {
  it.each([
    ['1', 1],
    [' 60 ', 60],
    [5, 5],
  ])('reads %j', (raw, value) => expect(positiveInteger(raw)).toBe(value));
  it.each([['0'], ['-5'], ['abc'], ['1.5'], [0], [2.5], [NaN], [''], [true], ['1e3']])(
    'rejects %j',
    (raw) => expect(() => positiveInteger(raw)).toThrow('expected a whole number of at least 1'),
  );
});

describe('nonNegativeInteger', () => {
  it.each([
    ['0', 0],
    ['3', 3],
    [7, 7],
  ])('reads %j', (raw, value) => expect(nonNegativeInteger(raw)).toBe(value));
  it.each([['-1'], ['x'], [-1], ['1.5']])('rejects %j', (raw) =>
    expect(() => nonNegativeInteger(raw)).toThrow('at least 0'),
  );
});

describe('positiveSeconds', () => {
  it.each([
    ['2', 2],
    ['0.5', 0.5],
    ['.25', 0.25],
    [300, 300],
  ])('reads %j', (raw, value) => expect(positiveSeconds(raw)).toBe(value));
  it.each([['0'], ['-1'], ['abc'], [0], [Infinity], ['1s']])('rejects %j', (raw) =>
    expect(() => positiveSeconds(raw)).toThrow('greater than 0'),
  );
});

describe('boolean', () => {
  it.each(['1', 't', 'TRUE', 'true', 'True', 'yes', 'on', ' true '])('reads %j as true', (raw) =>
    expect(boolean(raw)).toBe(true),
  );
  it.each(['0', 'f', 'FALSE', 'false', 'no', 'off'])('reads %j as false', (raw) =>
    expect(boolean(raw)).toBe(false),
  );
  it('passes booleans through', () => {
    expect(boolean(true)).toBe(true);
    expect(boolean(false)).toBe(false);
  });
  it.each([['maybe'], ['2'], [''], [1], [null]])('rejects %j', (raw) =>
    expect(() => boolean(raw)).toThrow('expected true or false'),
  );
});

describe('nonEmptyString and optionalString', () => {
  it('reads strings', () => {
    expect(nonEmptyString('/etc/x')).toBe('/etc/x');
    expect(optionalString('u')).toBe('u');
  });
  it('maps nothing to undefined', () => {
    expect(optionalString(null)).toBeUndefined();
    expect(optionalString(undefined)).toBeUndefined();
  });
  it.each([[''], ['  '], [3]])('rejects %j', (raw) => {
    expect(() => nonEmptyString(raw)).toThrow('non-empty string');
    expect(() => optionalString(raw)).toThrow('non-empty string');
  });
});
