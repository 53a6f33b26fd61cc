import { normalizeKeyPrefix } from '../../lib/config/normalizeKeyPrefix';

describe('normalizeKeyPrefix', () => {
  it.each([
    ['gsr/', 'gsr/'],
    ['gsr', 'gsr/'],
    ['gsr///', 'gsr/'],
    ['/gsr', '/gsr/'],
    ['a/b', 'a/b/'],
    ['/', '/'],
    ['//', '/'],
  ])('turns %j into %j, like the Go gsr', (raw, expected) => {
    expect(normalizeKeyPrefix(raw)).toBe(expected);
  });

  it.each([[''], ['g sr'], ['gsr\n'], ['a\u0000b']])('rejects %j', (raw) => {
    expect(() => normalizeKeyPrefix(raw)).toThrow(/key prefix/);
  });

  it('rejects what is not a string', () => {
    expect(() => normalizeKeyPrefix(3)).toThrow(/expected a string/);
  });
});
