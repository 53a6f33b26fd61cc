import fc from 'fast-check';
import { endpointLocality } from '../../lib/locality/Locality';
import { DEFAULT_LOCALITY_POLICY, localityPolicy } from '../../lib/locality/LocalityPolicy';
import { type LocalityGroup, localityPlan } from '../../lib/locality/localityPlan';
import { priorityOf } from '../../lib/locality/priorityOf';

const group = (
  priority: number,
  zone: string,
  healthy: number,
  total = healthy,
): LocalityGroup => ({
  priority,
  zone,
  healthy,
  total,
  healthyWeight: healthy,
  totalWeight: total,
});

const shares = (plan: ReturnType<typeof localityPlan>): number[] =>
  plan.shares.map(({ share }) => Math.round(share * 10_000) / 10_000);

describe('localityPlan', () => {
  it('spills from priority 0 to 1 by the overprovisioning factor: half healthy keeps 70 %', () => {
    const plan = localityPlan([group(0, 'a', 2, 4), group(1, 'b', 4)], {}, DEFAULT_LOCALITY_POLICY);
    expect(shares(plan)).toEqual([0.7, 0.3]);
    expect(plan.shares.map(({ panic }) => panic)).toEqual([false, false]);
  });

  it('routes a level in panic to all of its endpoints, by all their weight', () => {
    const plan = localityPlan(
      [group(0, 'a', 1, 4), group(0, 'b', 0, 4), group(1, 'c', 1, 4)],
      {},
      DEFAULT_LOCALITY_POLICY,
    );
    // health 17 (⌊140 / 8⌋) and 35: normalized 52, loads 32 and 67 (+1 to P0): 33/67.
    expect(shares(plan)).toEqual([0.165, 0.165, 0.67]);
    expect(plan.shares.map(({ panic }) => panic)).toEqual([true, true, true]);
  });

  it("within the first level, keeps calls in the caller's zone by Envoy's zone-aware rule", () => {
    const groups = [group(0, 'a', 6), group(0, 'b', 3), group(0, 'c', 1)];
    const callers = new Map([
      ['a', 1],
      ['b', 1],
      ['c', 1],
    ]);
    const fromA = localityPlan(groups, { zone: 'a', callers }, DEFAULT_LOCALITY_POLICY);
    expect(fromA.routing).toEqual({ kind: 'direct' });
    expect(shares(fromA)).toEqual([1, 0, 0]);
    const fromC = localityPlan(groups, { zone: 'c', callers }, DEFAULT_LOCALITY_POLICY);
    expect(shares(fromC)).toEqual([0.7, 0, 0.3]);
  });

  it('balances over the whole level, by weight, without a caller zone or below the minimum cluster size', () => {
    const groups = [group(0, 'a', 3), group(0, 'b', 1)];
    const callers = new Map([['b', 5]]);
    expect(shares(localityPlan(groups, { zone: 'b', callers }, DEFAULT_LOCALITY_POLICY))).toEqual([
      0.75, 0.25,
    ]);
    expect(
      localityPlan(groups, { zone: 'b', callers }, localityPolicy({ minClusterSize: 4 })).routing,
    ).toMatchObject({ kind: 'residual' });
  });

  const groups = fc
    .array(
      fc.record({
        priority: fc.nat({ max: 3 }),
        zone: fc.constantFrom('', 'a', 'b', 'c'),
        total: fc.nat({ max: 8 }),
        healthyPart: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
      { minLength: 1, maxLength: 8 },
    )
    .map((raw) => {
      const seen = new Set<string>();
      return raw
        .filter(
          ({ priority, zone }) =>
            !seen.has(`${priority}|${zone}`) && seen.add(`${priority}|${zone}`),
        )
        .map(({ priority, zone, total, healthyPart }) =>
          group(priority, zone, Math.floor(total * healthyPart), total),
        );
    });
  const callers = fc.option(
    fc
      .dictionary(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 9 }))
      .map((counts) => new Map(Object.entries(counts))),
    { nil: undefined },
  );

  it('shares sum to 1 whenever any group has endpoints, and never go to a group with nothing to call', () => {
    fc.assert(
      fc.property(groups, callers, fc.constantFrom(undefined, 'a', 'b'), (given, known, zone) => {
        const plan = localityPlan(given, { zone, callers: known }, DEFAULT_LOCALITY_POLICY);
        const sum = plan.shares.reduce((total, { share }) => total + share, 0);
        if (given.some(({ total }) => total > 0)) {
          expect(sum).toBeCloseTo(1, 9);
        }
        plan.shares.forEach(({ share, panic }, at) => {
          const one = given[at] as LocalityGroup;
          expect(share).toBeGreaterThanOrEqual(0);
          if (share > 0) {
            expect(panic ? one.total : one.healthy).toBeGreaterThan(0);
          }
        });
      }),
    );
  });

  it("is monotone: one more healthy endpoint in the caller's first-level group never lowers its share", () => {
    fc.assert(
      fc.property(groups, (given) => {
        const first = given.findIndex(({ priority }) =>
          given.every((other) => other.priority >= priority),
        );
        const one = given[first] as LocalityGroup;
        fc.pre(one.healthy < one.total);
        const before = localityPlan(given, {}, DEFAULT_LOCALITY_POLICY);
        const better = given.map((other, at) =>
          at === first ? group(one.priority, one.zone, one.healthy + 1, one.total) : other,
        );
        const after = localityPlan(better, {}, DEFAULT_LOCALITY_POLICY);
        fc.pre(!before.shares[first]?.panic && !after.shares[first]?.panic);
        const levelShare = (plan: ReturnType<typeof localityPlan>): number =>
          plan.shares
            .filter((_, at) => (given[at] as LocalityGroup).priority === one.priority)
            .reduce((sum, { share }) => sum + share, 0);
        expect(levelShare(after)).toBeGreaterThanOrEqual(levelShare(before) - 1e-12);
      }),
    );
  });
});

describe('priorityOf', () => {
  const caller = { zone: 'a', region: 'eu' };
  it.each([
    [{ zone: 'a', region: 'eu' }, false, 0],
    [{ zone: 'b', region: 'eu' }, false, 1],
    [{ zone: 'c', region: 'us' }, false, 2],
    [{}, false, 0],
    [{ zone: 'b', region: 'eu' }, true, 0],
    [{ zone: 'c', region: 'us' }, true, 1],
    [{ zone: 'c', region: 'us', priority: 0 }, false, 0],
  ])('%j, zone-aware %s: priority %d', (endpoint, zoneAware, expected) => {
    expect(priorityOf(endpoint, caller, zoneAware)).toBe(expected);
  });

  it('puts every endpoint first for a caller that names no locality', () => {
    expect(priorityOf({ zone: 'c', region: 'us' }, {}, false)).toBe(0);
  });
});

describe('endpointLocality', () => {
  const at = (metadata: Record<string, unknown>) =>
    endpointLocality({ service: 's', address: '10.0.0.1:1', metadata });

  it('reads zone, region and priority', () => {
    expect(at({ zone: 'a', region: 'eu', priority: 2 })).toEqual({
      zone: 'a',
      region: 'eu',
      priority: 2,
      problem: undefined,
    });
  });

  it.each([
    [{ zone: 7 }, 'metadata.zone 7 is not a printable name'],
    [{ zone: 'a\u001b[2J' }, 'metadata.zone "a\\u001b[2J" is not a printable name'],
    [{ region: 'x'.repeat(200) }, 'metadata.region "xxxx'],
    [{ priority: 1.5 }, 'metadata.priority 1.5 is not a whole number from 0 to 9'],
    [{ priority: -1 }, 'metadata.priority -1 is not'],
    [{ priority: '0' }, 'metadata.priority "0" is not'],
    [{ priority: 1e9 }, 'metadata.priority 1000000000 is not'],
  ])('reads %j as absent, and says why', (metadata, problem) => {
    const read = at(metadata);
    expect(read.problem).toContain(problem);
    expect(read.zone ?? read.region ?? read.priority).toBeUndefined();
  });
});
