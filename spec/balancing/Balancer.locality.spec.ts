import fc from 'fast-check';
import { BehaviorSubject, Subject } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import type { BalancerOptions } from '../../lib/balancing/BalancerOptions';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { EndpointState } from '../../lib/endpoint/EndpointState';
import { systemClock } from '../../lib/etcd/Clock';
import { testLogger } from '../support/testLogger';

const at = (
  address: string,
  metadata: Record<string, unknown>,
  state?: EndpointState,
  service = 'api',
): Endpoint => ({ service, address, metadata, ...(state !== undefined && { state }) });

/** Zones of `counts` endpoints each, `zone-i` addresses. */
const zones = (counts: Record<string, number>, service = 'api'): Endpoint[] =>
  Object.entries(counts).flatMap(([zone, count]) =>
    Array.from({ length: count }, (_, i) => at(`${zone}-${i}:1`, { zone }, undefined, service)),
  );

/** A balancer whose draws are evenly spaced over [0, 1): shares become exact counts. */
function balancerOf(list: readonly Endpoint[], options: BalancerOptions = {}) {
  let draw = 0;
  const clock = { ...systemClock, random: () => (draw++ % 1000) / 1000 };
  const { logger, lines } = testLogger();
  const list$ = new BehaviorSubject<readonly Endpoint[]>(list);
  const balancer = new Balancer(list$, { logger, clock, retries: 0, ...options });
  return { balancer, list$, lines };
}

/** How many of `n` picks went to each zone. */
function byZone(balancer: Balancer, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const zone = balancer.pick()?.metadata?.zone;
    const key = typeof zone === 'string' ? zone : 'none';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('Balancer locality policy', () => {
  it("spreads a caller's calls over zones by Envoy's zone-aware rule, from the callers per zone", () => {
    const callers$ = new BehaviorSubject<readonly Endpoint[]>(zones({ a: 1, b: 1, c: 1 }, 'web'));
    const upstream = zones({ a: 6, b: 3, c: 1 });
    const fromA = balancerOf(upstream, { locality: { zone: 'a', callers$ } });
    const fromC = balancerOf(upstream, { locality: { zone: 'c', callers$ } });
    expect(byZone(fromA.balancer, 1000)).toEqual({ a: 1000 });
    // c holds 10 % of the endpoints and 33 % of the callers: it keeps 30 % of its calls, the rest
    // goes to a, the one zone with room to spare.
    expect(byZone(fromC.balancer, 1000)).toEqual({ c: 300, a: 700 });
    expect(fromC.balancer.locality().routing).toMatchObject({ kind: 'residual', local: 0.3 });
    // Callers in proportion to endpoints: every zone keeps its calls.
    callers$.next(zones({ a: 6, b: 3, c: 1 }, 'web'));
    expect(byZone(fromC.balancer, 1000)).toEqual({ c: 1000 });
    fromA.balancer.close();
    fromC.balancer.close();
  });

  it('spreads over the whole level below the minimum cluster size, and when the callers are unknown', () => {
    const callers$ = new Subject<readonly Endpoint[]>();
    const { balancer } = balancerOf(zones({ a: 2, b: 2 }), { locality: { zone: 'a', callers$ } });
    callers$.next(zones({ a: 1 }, 'web'));
    expect(balancer.locality().routing).toEqual({
      kind: 'off',
      why: 'fewer than 6 healthy endpoints',
    });
    expect(byZone(balancer, 1000)).toEqual({ a: 500, b: 500 });
    balancer.close();
  });

  it('turns zone-aware routing off, with one log line, when the callers’ list fails', () => {
    const callers$ = new Subject<readonly Endpoint[]>();
    const { balancer, lines } = balancerOf(zones({ a: 6, b: 6 }), {
      locality: { zone: 'a', callers$ },
    });
    callers$.next(zones({ a: 1, b: 3 }, 'web'));
    expect(byZone(balancer, 1000)).toEqual({ a: 1000 });
    callers$.error(new Error('gone'));
    expect(balancer.locality().routing).toEqual({ kind: 'off', why: 'the callers are not known' });
    expect(byZone(balancer, 1000)).toEqual({ a: 500, b: 500 });
    expect(lines.filter((line) => line.includes('callers$ failed'))).toHaveLength(1);
    balancer.close();
  });

  it('follows declared priorities, spilling by the overprovisioning factor as failing endpoints grow', () => {
    const list = [
      at('p0-a:1', { priority: 0 }),
      at('p0-b:1', { priority: 0 }),
      at('p0-c:1', { priority: 0 }),
      at('p0-d:1', { priority: 0 }),
      at('p1-a:1', { priority: 1 }),
    ];
    const { balancer, list$ } = balancerOf(list);
    expect(balancer.locality().load).toEqual([100, 0]);
    // 3 of 4 healthy: 1.4 × 75 % ≥ 100 %, priority 0 keeps every call.
    list$.next([at('p0-a:1', { priority: 0 }, 'failing'), ...list.slice(1)]);
    expect(balancer.locality().load).toEqual([100, 0]);
    // 2 of 4: 70 / 30.
    list$.next([
      at('p0-a:1', { priority: 0 }, 'failing'),
      at('p0-b:1', { priority: 0 }, 'failing'),
      ...list.slice(2),
    ]);
    expect(balancer.locality()).toMatchObject({ load: [70, 30], panic: [false, false] });
    balancer.close();
  });

  it('in panic calls every endpoint of the level, healthy or not', () => {
    const list = [
      at('a:1', {}),
      at('b:1', {}, 'failing'),
      at('c:1', {}, 'failing'),
      at('d:1', {}, 'failing'),
    ];
    const { balancer } = balancerOf(list);
    expect(balancer.locality()).toMatchObject({ load: [100], panic: [true] });
    const picked = new Set(Array.from({ length: 8 }, () => balancer.pick()?.address));
    expect(picked).toEqual(new Set(['a:1', 'b:1', 'c:1', 'd:1']));
    balancer.close();
  });

  it('places calls when the metadata is hostile, as if it named no locality, with one log line per endpoint', () => {
    const { balancer, lines } = balancerOf(
      [
        at('a:1', { zone: 'x\u001b[2J', priority: 'first' }),
        at('b:1', { zone: { deep: [1] }, region: 7, priority: 1e300 }),
      ],
      { zone: 'a' },
    );
    for (let i = 0; i < 10; i++) {
      expect(balancer.pick()).toBeDefined();
    }
    expect(balancer.locality().groups).toEqual([
      expect.objectContaining({ priority: 0, zone: undefined, total: 2 }),
    ]);
    const warned = lines.filter((line) => line.includes('balanced as if it named none'));
    expect(warned).toHaveLength(2);
    expect(warned.join('\n')).not.toContain('\u001b');
    balancer.close();
  });

  it('retries on another group when the drawn one has no endpoint left to try', async () => {
    const { balancer } = balancerOf(zones({ a: 1, b: 1 }), {
      zone: 'a',
      retries: 1,
      outlier: false,
    });
    const tried: string[] = [];
    await balancer.call((endpoint) => {
      tried.push(endpoint.address);
      return tried.length === 1
        ? Promise.reject(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))
        : Promise.resolve('ok');
    });
    expect(tried).toEqual(['a-0:1', 'b-0:1']);
    balancer.close();
  });

  it('places every call while an endpoint serves, whatever the metadata, states and callers (property)', () => {
    const metadataValue = fc.oneof(
      fc.constantFrom('a', 'b', 'c', '', 'x'.repeat(300), '\u0000', 0, 1, 9, 10, -1, 0.5, 1e300),
      fc.anything(),
    );
    const endpoint = fc.record({
      zone: metadataValue,
      region: metadataValue,
      priority: metadataValue,
      state: fc.constantFrom<EndpointState>(
        'serving',
        'draining',
        'failing',
        'maintenance',
        'lost',
      ),
    });
    fc.assert(
      fc.property(
        fc.array(endpoint, { minLength: 1, maxLength: 12 }),
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 6 }),
        fc.option(fc.constantFrom('a', 'b', 'd'), { nil: undefined }),
        (endpoints, callerZones, zone) => {
          fc.pre(endpoints.some((one) => one.state === 'serving'));
          const list = endpoints.map(({ state, ...metadata }, i) =>
            at(`10.0.0.${i}:1`, metadata, state),
          );
          const callers$ = new BehaviorSubject<readonly Endpoint[]>(
            callerZones.map((callerZone, i) =>
              at(`10.1.0.${i}:1`, { zone: callerZone }, undefined, 'web'),
            ),
          );
          const { balancer } = balancerOf(list, {
            locality: { zone, callers$, minClusterSize: 1 },
            outlier: false,
          });
          for (let i = 0; i < 20; i++) {
            expect(balancer.pick()).toBeDefined();
          }
          const shares = balancer.locality().groups.reduce((sum, group) => sum + group.share, 0);
          expect(shares).toBeCloseTo(1, 9);
          balancer.close();
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([
    [{ locality: { zone: '' } }, '`locality.zone` to be a non-empty string'],
    [{ locality: { callers$: [] } }, '`locality.callers$` to be an Observable of endpoint lists'],
    [
      { locality: { overprovisioningFactor: 0.5 } },
      '`locality.overprovisioningFactor` to be a number from 1 to 10',
    ],
    [
      { locality: { panicThreshold: 101 } },
      '`locality.panicThreshold` to be a percent from 0 to 100',
    ],
    [
      { locality: { minClusterSize: 1.5 } },
      '`locality.minClusterSize` to be a whole number from 1',
    ],
  ])('refuses %j, naming the option', (options, message) => {
    expect(() => new Balancer(new Subject(), options as BalancerOptions)).toThrow(message);
  });
});
