import { clientView, NOWHERE } from '../../lib/xds/ClientView';

describe('clientView', () => {
  const isService = (name: string): boolean => /^[a-z-]+$/.test(name);

  it("reads a client's zone, region and own service from its node", () => {
    const warned: string[] = [];
    const view = clientView(
      { id: 'n', cluster: 'web', locality: { zone: 'a', region: 'eu' } },
      isService,
      (line) => warned.push(line),
    );
    expect(view).toEqual({
      key: '["a","eu","web"]',
      caller: { zone: 'a', region: 'eu' },
      callers: 'web',
    });
    expect(warned).toEqual([]);
  });

  it('shares one view among clients that say nothing of where they are', () => {
    expect(clientView({ id: 'n', locality: {} }, isService, () => undefined)).toBe(NOWHERE);
    expect(clientView(undefined, isService, () => undefined)).toBe(NOWHERE);
    expect(clientView({ id: 'n', locality: { zone: '' } }, isService, () => undefined)).toBe(
      NOWHERE,
    );
  });

  it('reads what it cannot use as absent, each with a log line that shows no raw control character', () => {
    const warned: string[] = [];
    const view = clientView(
      {
        id: 'evil\u001b[2J',
        cluster: 'NOT A SERVICE\u0007',
        locality: { zone: 'z'.repeat(500), region: 'eu\u0000' },
      },
      isService,
      (line) => warned.push(line),
    );
    expect(view).toBe(NOWHERE);
    expect(warned).toHaveLength(2);
    expect(warned[0]).toContain('node.locality.zone');
    expect(warned[1]).toContain('no valid service name');
    // eslint-disable-next-line no-control-regex
    expect(warned.join(' ')).not.toMatch(/[\u0000-\u001f]/);
  });
});
