import { BehaviorSubject } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import { slowStartFactor } from '../../lib/balancing/SlowStart';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { EndpointState } from '../../lib/endpoint/EndpointState';
import { isNoEndpointError } from '../../lib/errors/NoEndpointError';
import { testLogger } from '../support/testLogger';

const ep = (address: string, state?: EndpointState): Endpoint =>
  state === undefined ? { service: 'api', address } : { service: 'api', address, state };

/** How many of `n` picks went to each address. */
function tally(balancer: Balancer, n: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const address = balancer.pick()?.address ?? 'none';
    counts[address] = (counts[address] ?? 0) + 1;
  }
  return counts;
}

describe('Balancer and endpoint states', () => {
  it('picks serving endpoints only while one is left, then draining ones, then failing ones, never maintenance', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([
      ep('a:1'),
      ep('b:1', 'draining'),
      ep('c:1', 'failing'),
      ep('d:1', 'maintenance'),
    ]);
    const balancer = new Balancer(list$, { logger: testLogger().logger });
    expect(tally(balancer, 10)).toEqual({ 'a:1': 10 });
    list$.next([ep('b:1', 'draining'), ep('c:1', 'failing'), ep('d:1', 'maintenance')]);
    expect(tally(balancer, 10)).toEqual({ 'b:1': 10 });
    list$.next([ep('c:1', 'failing'), ep('d:1', 'maintenance')]);
    expect(tally(balancer, 10)).toEqual({ 'c:1': 10 });
    list$.next([ep('d:1', 'maintenance')]);
    expect(tally(balancer, 10)).toEqual({ none: 10 });
    balancer.close();
  });

  it('has a call wait while only endpoints in maintenance are listed, and take one that comes back', async () => {
    jest.useFakeTimers();
    try {
      const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('d:1', 'maintenance')]);
      const balancer = new Balancer(list$, { logger: testLogger().logger, timeout: 1000 });
      const called = balancer.call((endpoint) => Promise.resolve(endpoint.address));
      await jest.advanceTimersByTimeAsync(500);
      list$.next([ep('d:1')]);
      await expect(called).resolves.toBe('d:1');
      list$.next([ep('d:1', 'maintenance')]);
      const refused = balancer.call((endpoint) => Promise.resolve(endpoint.address));
      const outcome = refused.catch((error: unknown) => error);
      await jest.advanceTimersByTimeAsync(1000);
      expect(isNoEndpointError(await outcome)).toBe(true);
      balancer.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps the stats of an endpoint across its changes of state', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a:1'), ep('b:1')]);
    const balancer = new Balancer(list$, { logger: testLogger().logger, strategy: 'random' });
    await balancer.call(() => Promise.resolve());
    list$.next([ep('a:1', 'draining'), ep('b:1')]);
    list$.next([ep('a:1'), ep('b:1')]);
    const total = balancer.stats().reduce((sum, s) => sum + s.successes, 0);
    expect(total).toBe(1);
    balancer.close();
  });
});

describe('slow start', () => {
  it("follows Envoy's formula", () => {
    const options = { windowMs: 1000, aggression: 1, minWeightPercent: 10 };
    expect(slowStartFactor(0, options)).toBe(0.1);
    expect(slowStartFactor(500, options)).toBe(0.5);
    expect(slowStartFactor(1000, options)).toBe(1);
    expect(slowStartFactor(250, { ...options, aggression: 2 })).toBeCloseTo(0.5);
    expect(slowStartFactor(50, { windowMs: 1000 })).toBe(0.1);
  });

  it('ramps endpoints that arrive after the first list, from when the balancer saw them, and not those of the first list', () => {
    jest.useFakeTimers();
    try {
      const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a:1'), ep('b:1')]);
      const balancer = new Balancer(list$, {
        logger: testLogger().logger,
        strategy: 'random',
        slowStart: { windowMs: 10_000 },
      });
      expect(tally(balancer, 2000)['a:1']).toBeGreaterThan(850); // Even: not slowed.
      list$.next([ep('a:1'), ep('b:1'), ep('c:1')]);
      // At first 10 % of its weight: 0.1 / 2.1 of the picks, about 95 of 2000.
      const early = tally(balancer, 2000)['c:1'] ?? 0;
      expect(early).toBeGreaterThan(40);
      expect(early).toBeLessThan(180);
      jest.advanceTimersByTime(5000); // Half way: 0.5 / 2.5, about 400.
      const half = tally(balancer, 2000)['c:1'] ?? 0;
      expect(half).toBeGreaterThan(300);
      expect(half).toBeLessThan(500);
      jest.advanceTimersByTime(5000); // Done: a third, about 667.
      const done = tally(balancer, 3000)['c:1'] ?? 0;
      expect(done).toBeGreaterThan(850);
      expect(done).toBeLessThan(1150);
      balancer.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses options it cannot use, naming them', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([]);
    expect(() => new Balancer(list$, { slowStart: {} as never })).toThrow(/slowStart\.windowMs/);
    expect(() => new Balancer(list$, { slowStart: { windowMs: 1000, aggression: 0 } })).toThrow(
      /slowStart\.aggression/,
    );
    expect(
      () => new Balancer(list$, { slowStart: { windowMs: 1000, minWeightPercent: 0 } }),
    ).toThrow(/slowStart\.minWeightPercent/);
  });
});
