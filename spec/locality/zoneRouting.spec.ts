import fc from 'fast-check';
import { zoneRouting } from '../../lib/locality/zoneRouting';

const zones = (counts: Record<string, number>): Map<string, number> =>
  new Map(Object.entries(counts));

describe('zoneRouting', () => {
  it("keeps every call in the caller's zone while it has at least its callers' share of the hosts", () => {
    expect(zoneRouting(zones({ a: 6, b: 3, c: 1 }), zones({ a: 6, b: 3, c: 1 }), 'c', 6)).toEqual({
      kind: 'direct',
    });
    expect(zoneRouting(zones({ a: 6, b: 3, c: 1 }), zones({ a: 1, b: 1, c: 1 }), 'a', 6)).toEqual({
      kind: 'direct',
    });
  });

  it("spills what the caller's zone cannot take to the zones with room, by their room (Envoy's example)", () => {
    // Envoy's comment: local 40/40/20 %, upstream 25/50/25 %: residual capacity 0, 10000, 5000.
    const routing = zoneRouting(
      zones({ a: 25, b: 50, c: 25 }),
      zones({ a: 40, b: 40, c: 20 }),
      'a',
      6,
    );
    expect(routing).toEqual({
      kind: 'residual',
      local: 0.625, // 2500 / 4000
      spare: zones({ b: 1000, c: 500 }),
    });
  });

  it('sends every call away from a zone with no host', () => {
    const routing = zoneRouting(zones({ a: 4, b: 4 }), zones({ a: 1, b: 1, c: 1 }), 'c', 6);
    expect(routing).toMatchObject({ kind: 'residual', local: 0 });
  });

  it.each([
    ['fewer than two zones have healthy endpoints', zones({ a: 10, b: 0 }), zones({ a: 1 })],
    ['fewer than 6 healthy endpoints', zones({ a: 3, b: 2 }), zones({ a: 1 })],
    ['no caller is known', zones({ a: 3, b: 3 }), zones({})],
  ])('is off (%s)', (why, upstream, callers) => {
    expect(zoneRouting(upstream, callers, 'a', 6)).toEqual({ kind: 'off', why });
  });

  const population = fc.dictionary(
    fc.constantFrom('a', 'b', 'c', 'd'),
    fc.integer({ min: 1, max: 40 }),
    { minKeys: 2 },
  );

  it('gives every zone, from all callers together, calls in proportion to its hosts', () => {
    fc.assert(
      fc.property(population, population, (upstreamCounts, callerCounts) => {
        const upstream = zones(upstreamCounts);
        const callers = zones(callerCounts);
        const hosts = [...upstream.values()].reduce((sum, n) => sum + n, 0);
        const callerTotal = [...callers.values()].reduce((sum, n) => sum + n, 0);
        fc.pre(hosts >= 6);
        const inflow = new Map<string, number>();
        for (const [zone, count] of callers) {
          const routing = zoneRouting(upstream, callers, zone, 6);
          const share = count / callerTotal;
          if (routing.kind === 'direct') {
            inflow.set(zone, (inflow.get(zone) ?? 0) + share);
          } else if (routing.kind === 'residual') {
            inflow.set(zone, (inflow.get(zone) ?? 0) + share * routing.local);
            const spare = [...routing.spare.values()].reduce((sum, n) => sum + n, 0);
            fc.pre(spare > 0);
            for (const [to, room] of routing.spare) {
              inflow.set(to, (inflow.get(to) ?? 0) + (share * (1 - routing.local) * room) / spare);
            }
          }
        }
        for (const [zone, count] of upstream) {
          // Envoy's arithmetic is in 1/10,000s: a few of them are lost to rounding per zone.
          expect(Math.abs((inflow.get(zone) ?? 0) - count / hosts)).toBeLessThan(0.003);
        }
      }),
    );
  });

  it('keeps local share in [0, 1] and spare capacity ≥ 0', () => {
    fc.assert(
      fc.property(
        population,
        population,
        fc.constantFrom('a', 'b', 'c', 'd'),
        (up, callers, mine) => {
          const routing = zoneRouting(zones(up), zones(callers), mine, 1);
          if (routing.kind === 'residual') {
            expect(routing.local).toBeGreaterThanOrEqual(0);
            expect(routing.local).toBeLessThanOrEqual(1);
            expect([...routing.spare.values()].every((room) => room >= 0)).toBe(true);
            expect(routing.spare.has(mine)).toBe(false);
          }
        },
      ),
    );
  });
});
