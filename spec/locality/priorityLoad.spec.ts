import fc from 'fast-check';
import { type LevelHealth, priorityLoad } from '../../lib/locality/priorityLoad';

/** A level with `percent` of its 100 hosts healthy. */
const level = (percent: number): LevelHealth => ({ healthy: percent, total: 100 });

describe('priorityLoad', () => {
  // Envoy's documentation, "Priority levels": each row is healthy percents per level → traffic percents.
  it.each([
    [
      [100, 100],
      [100, 0],
    ],
    [
      [72, 100],
      [100, 0],
    ],
    [
      [71, 100],
      [99, 1],
    ],
    [
      [50, 100],
      [70, 30],
    ],
    [
      [25, 100],
      [35, 65],
    ],
    [
      [0, 100],
      [0, 100],
    ],
    [
      [72, 72],
      [100, 0],
    ],
    [
      [71, 71],
      [99, 1],
    ],
    [
      [50, 50],
      [70, 30],
    ],
    [
      [25, 25],
      [50, 50],
    ],
    [
      [100, 100, 100],
      [100, 0, 0],
    ],
    [
      [72, 72, 100],
      [100, 0, 0],
    ],
    [
      [71, 71, 100],
      [99, 1, 0],
    ],
    [
      [50, 50, 100],
      [70, 30, 0],
    ],
    [
      [25, 100, 100],
      [35, 65, 0],
    ],
    [
      [25, 25, 100],
      [35, 35, 30],
    ],
  ])("Envoy's table: healthy %j gets %j", (healthy, expected) => {
    expect(priorityLoad(healthy.map(level)).load).toEqual(expected);
  });

  it("Envoy's last row with its integer rounding: {25, 25, 20} % healthy gets 37/35/28 (the docs round to 36/36/28)", () => {
    // health 35, 35, 28 (normalized 98): ⌊35 × 100 / 98⌋ = 35, 35, ⌊28.57⌋ = 28; the 2 left go to P0,
    // as LoadBalancerBase::recalculatePriorityLoad gives them.
    expect(priorityLoad([level(25), level(25), level(20)]).load).toEqual([37, 35, 28]);
  });

  it('normalises health below 100: {20, 30} % health becomes 40/60', () => {
    // health(P) = 1.4 × healthy: 14/100 healthy → 19 (⌊19.6⌋), 21/100 → 29 (⌊29.4⌋).
    expect(
      priorityLoad([
        { healthy: 1, total: 7 },
        { healthy: 3, total: 14 },
      ]).load,
    ).toEqual([40, 60]);
  });

  it('is in panic only where the levels together cannot take the load and a level is under the threshold', () => {
    expect(priorityLoad([level(40), level(100)]).panic).toEqual([false, false]);
    expect(priorityLoad([level(40), level(20)]).panic).toEqual([true, true]);
    expect(priorityLoad([level(10), level(60)]).panic).toEqual([true, false]);
  });

  it('in total panic (no healthy host) loads levels by their hosts, all in panic', () => {
    expect(
      priorityLoad([
        { healthy: 0, total: 1 },
        { healthy: 0, total: 3 },
      ]),
    ).toEqual({
      load: [25, 75],
      panic: [true, true],
    });
    expect(
      priorityLoad([
        { healthy: 0, total: 0 },
        { healthy: 0, total: 0 },
      ]).load,
    ).toEqual([100, 0]);
  });

  it('without overprovisioning spills at the first unhealthy host', () => {
    expect(priorityLoad([level(90), level(100)], 1).load).toEqual([90, 10]);
  });

  const levels = fc.array(
    fc
      .nat({ max: 50 })
      .chain((total) => fc.record({ healthy: fc.nat({ max: total }), total: fc.constant(total) })),
    { minLength: 1, maxLength: 5 },
  );

  it('always loads 100 % in whole percents, each level within [0, 100]', () => {
    fc.assert(
      fc.property(levels, fc.double({ min: 1, max: 3, noNaN: true }), (given, factor) => {
        const { load, panic } = priorityLoad(given, factor);
        expect(load.reduce((sum, value) => sum + value, 0)).toBe(100);
        expect(load.every((value) => Number.isInteger(value) && value >= 0 && value <= 100)).toBe(
          true,
        );
        expect(panic).toHaveLength(given.length);
      }),
    );
  });

  it('never loads a level with hosts of which none is healthy while another level has a healthy one', () => {
    fc.assert(
      fc.property(levels, (given) => {
        fc.pre(given.some((one) => one.healthy > 0));
        const { load } = priorityLoad(given);
        given.forEach((one, index) => {
          if (one.healthy === 0) {
            expect(load[index]).toBe(0);
          }
        });
      }),
    );
  });

  it("is monotone in health: one more healthy host in level 0 never lowers level 0's load", () => {
    fc.assert(
      fc.property(levels, (given) => {
        const first = given[0] as LevelHealth;
        fc.pre(first.healthy < first.total);
        const before = priorityLoad(given).load[0] as number;
        const after = priorityLoad([{ ...first, healthy: first.healthy + 1 }, ...given.slice(1)])
          .load[0] as number;
        expect(after).toBeGreaterThanOrEqual(before);
      }),
    );
  });
});
