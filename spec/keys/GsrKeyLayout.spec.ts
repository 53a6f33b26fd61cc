import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import { entry } from '../support/keyValues';

describe('GsrKeyLayout', () => {
  it("keys operators' overrides as <prefix>overrides/<service>/<address>", () => {
    expect(new GsrKeyLayout('gsr/').overrideKey({ service: 'web', address: '10.0.0.1:80' })).toBe(
      'gsr/overrides/web/10.0.0.1:80',
    );
  });

  const layout = new GsrKeyLayout('gsr/');

  it('lays keys out like the Go gsr', () => {
    expect(layout.servicesPrefix).toBe('gsr/services/');
    expect(layout.servicePrefix('web')).toBe('gsr/services/web/');
    expect(layout.endpointKey({ service: 'web', address: '172.16.28.23:80' })).toBe(
      'gsr/services/web/172.16.28.23:80',
    );
    expect(layout.encodeValue({ service: 'web', address: 'a' })).toBe('');
    expect(layout.encodeValue({ service: 'web', address: 'a', metadata: { z: 1 } })).toBe(
      '{"z":1}',
    );
  });

  it("ends a service's prefix with a slash, so that web never covers webapp", () => {
    expect(
      layout
        .endpointKey({ service: 'webapp', address: 'a' })
        .startsWith(layout.servicePrefix('web')),
    ).toBe(false);
  });

  it('reads what it lays out', () => {
    expect(layout.serviceOfEntry(entry('gsr/services/data-access/[::1]:10000'))).toEqual({
      service: 'data-access',
      id: '[::1]:10000',
    });
    expect(layout.decodeEntry('web', '10.0.0.1:80', Buffer.from('{"zone":"a"}'))).toEqual({
      endpoint: { service: 'web', address: '10.0.0.1:80', metadata: { zone: 'a' } },
    });
  });

  it.each([
    ['gsr/services/'],
    ['gsr/services/web'],
    ['gsr/services/web/'],
    ['gsr/services//a'],
    ['gsr/services/web/a/b'],
    ['gsr/services/web/a b'],
    ['gsr/services/web/a\u001b[31m'],
    ['gsr/services/we\nb/a'],
  ])('finds %j malformed', (key) => {
    expect(layout.serviceOfEntry(entry(key))).toEqual({ skip: expect.any(String) as string });
  });

  it.each([['a/b'], [''], ['a\n'], ['x'.repeat(513)]])(
    'skips the address %j, which gsr could not have registered',
    (address) => {
      expect(layout.decodeEntry('web', address, Buffer.alloc(0))).toEqual({
        skip: expect.stringContaining('the address') as string,
      });
    },
  );

  it('keeps an endpoint whose value is not metadata, and says why it dropped it', () => {
    expect(layout.decodeEntry('web', 'a', Buffer.from('[1]'))).toEqual({
      endpoint: { service: 'web', address: 'a' },
      warning: 'the value is JSON but not an object',
    });
  });

  it('works with the root prefix', () => {
    expect(new GsrKeyLayout('/').endpointKey({ service: 'web', address: 'a' })).toBe(
      '/services/web/a',
    );
  });
});
