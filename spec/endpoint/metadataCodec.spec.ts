import { decodeMetadata, encodeMetadata } from '../../lib/endpoint/metadataCodec';

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
    expect(decodeMetadata('')).toEqual({ metadata: undefined });
  });
  it('reads a JSON object, frozen', () => {
    const decoded = decodeMetadata('{"zone":"a","tags":["x"]}');
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
    expect(decodeMetadata(value)).toEqual({ error: expect.stringContaining(error) as string });
  });
});
