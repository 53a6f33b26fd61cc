import { decodeMetadata, encodeMetadata } from '../../lib/endpoint/metadataCodec';

const bytes = (text: string): Buffer => Buffer.from(text);

describe('encodeMetadata', () => {
  it('writes an empty value without metadata, as the Go gsr does', () => {
    expect(encodeMetadata(undefined)).toBe('');
  });
  it('writes JSON otherwise', () => {
    expect(encodeMetadata({ zone: 'a' })).toBe('{"zone":"a"}');
  });
});

describe('decodeMetadata', () => {
  it('reads an empty value as no metadata', () => {
    expect(decodeMetadata(bytes(''))).toEqual({ metadata: undefined });
  });
  it('reads a JSON object, frozen', () => {
    const decoded = decodeMetadata(bytes('{"zone":"a","tags":["x"]}'));
    expect(decoded).toEqual({ metadata: { zone: 'a', tags: ['x'] } });
    expect('metadata' in decoded && Object.isFrozen(decoded.metadata?.tags)).toBe(true);
  });
  it.each([
    ['not json', 'not JSON'],
    ['[1,2]', 'not an object'],
    ['"text"', 'not an object'],
    ['null', 'not an object'],
    ['42', 'not an object'],
  ])('says why %j is not metadata', (value, error) => {
    expect(decodeMetadata(bytes(value))).toEqual({
      error: expect.stringContaining(error) as string,
    });
  });

  it.each([
    [
      'nesting ten thousand deep',
      bytes('['.repeat(10_000) + ']'.repeat(10_000)),
      'nests deeper than 32 levels',
    ],
    [
      'nesting 33 deep in an object',
      bytes('{"a":'.repeat(33) + '1' + '}'.repeat(33)),
      'nests deeper than 32',
    ],
    ['more than 64 KiB', bytes(`{"x":"${'y'.repeat(70_000)}"}`), 'metadata is at most 65536'],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'not valid UTF-8'],
  ])('refuses %s, without throwing', (_what, value, error) => {
    expect(decodeMetadata(value)).toEqual({ error: expect.stringContaining(error) as string });
  });

  it('takes 32 levels, and brackets inside strings do not count', () => {
    const deep = '{"a":'.repeat(31) + '"[[[[{{{{"' + '}'.repeat(31);
    expect('metadata' in decodeMetadata(bytes(deep))).toBe(true);
  });
});
