import { KeyLayout } from '../../lib/keys/KeyLayout';

describe('KeyLayout', () => {
  const layout = new KeyLayout('gsr/');

  it('lays keys out like the Go gsr', () => {
    expect(layout.servicesPrefix).toBe('gsr/services/');
    expect(layout.servicePrefix('web')).toBe('gsr/services/web/');
    expect(layout.endpointKey('web', '172.16.28.23:80')).toBe('gsr/services/web/172.16.28.23:80');
  });

  it("ends a service's prefix with a slash, so that web never covers webapp", () => {
    expect(layout.endpointKey('webapp', 'a').startsWith(layout.servicePrefix('web'))).toBe(false);
  });

  it('parses what it lays out', () => {
    expect(layout.parse('gsr/services/data-access/[::1]:10000')).toEqual({
      service: 'data-access',
      address: '[::1]:10000',
    });
  });

  it.each([
    ['other/services/web/a'],
    ['gsr/services/'],
    ['gsr/services/web'],
    ['gsr/services/web/'],
    ['gsr/services//a'],
    ['gsr/services/web/a/b'],
  ])('finds %j malformed', (key) => {
    expect(layout.parse(key)).toBeUndefined();
  });

  it('works with the root prefix', () => {
    expect(new KeyLayout('/').endpointKey('web', 'a')).toBe('/services/web/a');
  });
});
