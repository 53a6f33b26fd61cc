import { BehaviorSubject, Subject } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import type { Strategy } from '../../lib/balancing/Strategy';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { isStrategyError } from '../../lib/errors/StrategyError';
import { isValidationError } from '../../lib/errors/ValidationError';
import { testLogger } from '../support/testLogger';
import { testMeter } from '../support/testMeter';

const ep = (address: string, metadata?: Endpoint['metadata']): Endpoint =>
  metadata === undefined ? { service: 'api', address } : { service: 'api', address, metadata };

/** An error whose `code` and `cause` throw when read, as a careless or hostile library's might. */
function booby(): Error {
  const error = new Error('the call failed');
  for (const field of ['code', 'cause']) {
    Object.defineProperty(error, field, {
      get() {
        throw new Error(`reading ${field} throws`);
      },
    });
  }
  return error;
}

/** A Proxy whose every trap throws. */
const trap = (): object =>
  new Proxy(
    {},
    {
      get: () => {
        throw new Error('get');
      },
      has: () => {
        throw new Error('has');
      },
      isExtensible: () => {
        throw new Error('isExtensible');
      },
      defineProperty: () => {
        throw new Error('defineProperty');
      },
      getPrototypeOf: () => {
        throw new Error('getPrototypeOf');
      },
    },
  );

describe('Balancer, given user code that throws or lies', () => {
  const { logger } = testLogger();
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => {
    uncaught.push(error);
  };
  beforeEach(() => {
    uncaught.splice(0);
    process.on('uncaughtException', onUncaught);
  });
  afterEach(() => {
    process.off('uncaughtException', onUncaught);
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it.each<[string, Strategy<unknown>]>([
    [
      'throws',
      () => {
        throw new Error('no pick for you');
      },
    ],
    ['returns an endpoint not in the list', () => ep('elsewhere:1')],
  ])(
    'ends the call with a StrategyError when its strategy %s, also while it waits for a list',
    async (_what, strategy) => {
      const list$ = new Subject<readonly Endpoint[]>();
      const balancer = new Balancer(list$, { strategy, logger });
      const waiting = balancer.call(() => Promise.resolve('never called')).catch((e: unknown) => e);
      list$.next([ep('a:1')]);
      expect(isStrategyError(await waiting)).toBe(true);
      // With a list in hand, the same.
      const now = balancer.call(() => Promise.resolve('x')).catch((e: unknown) => e);
      expect(isStrategyError(await now)).toBe(true);
      expect(() => balancer.pick()).toThrow(/strategy/);
      await settle();
      expect(uncaught).toEqual([]);
      expect(balancer.stats()[0]?.inFlight).toBe(0);
      balancer.close();
    },
  );

  it.each([
    ['an Error whose code and cause getters throw', booby],
    ['a Proxy whose every trap throws', trap],
  ])('settles a call with what fn threw (%s), and releases its endpoint', async (_what, make) => {
    const balancer = new Balancer(new BehaviorSubject([ep('a:1'), ep('b:1')]), { logger });
    for (let i = 0; i < 6; i++) {
      const thrown = make();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a Proxy, on purpose
      await expect(balancer.call(() => Promise.reject(thrown))).rejects.toBe(thrown);
    }
    expect(balancer.stats().map((s) => s.inFlight)).toEqual([0, 0]);
    await settle();
    expect(uncaught).toEqual([]);
    balancer.close();
  });

  it('settles with what fn threw when its retryable function throws', async () => {
    const balancer = new Balancer(new BehaviorSubject([ep('a:1'), ep('b:1')]), {
      logger,
      retryable: () => {
        throw new Error('retryable throws');
      },
    });
    const thrown = new Error('failed');
    await expect(balancer.call(() => Promise.reject(thrown))).rejects.toBe(thrown);
    expect(balancer.stats().map((s) => s.inFlight)).toEqual([0, 0]);
    balancer.close();
  });
});

describe('Balancer, given weights and latencies that are out of proportion', () => {
  const { logger } = testLogger();
  const huge = [
    ep('a:1', { weight: 1e308 }),
    ep('b:1', { weight: 1e308 }),
    ep('c:1', { weight: 1.7e308 }),
  ];

  it.each(['round-robin', 'random'] as const)(
    'shares %s picks as the weights say, however large (27/27/46 %% for 1e308, 1e308, 1.7e308)',
    (strategy) => {
      const balancer = new Balancer(new BehaviorSubject(huge), { strategy, logger });
      const counts = new Map<string, number>();
      for (let i = 0; i < 3700; i++) {
        const { address } = balancer.pick() as Endpoint;
        counts.set(address, (counts.get(address) ?? 0) + 1);
      }
      const share = (address: string) => (counts.get(address) ?? 0) / 3700;
      expect(share('a:1')).toBeCloseTo(1 / 3.7, 1);
      expect(share('b:1')).toBeCloseTo(1 / 3.7, 1);
      expect(share('c:1')).toBeCloseTo(1.7 / 3.7, 1);
      expect(balancer.stats().map((s) => s.weight)).toEqual([1e308, 1e308, 1.7e308]);
      balancer.close();
    },
  );

  it.each(['least-outstanding', 'latency'] as const)(
    'shares %s picks one at a time as the weights say, however large (27/27/46 %%)',
    async (strategy) => {
      const balancer = new Balancer(new BehaviorSubject(huge), { strategy, logger });
      const counts = new Map<string, number>();
      for (let i = 0; i < 3700; i++) {
        // Calls one after another, as fast as each other: no load tells them apart, the weights do.
        await balancer.call((endpoint) => {
          counts.set(endpoint.address, (counts.get(endpoint.address) ?? 0) + 1);
          return Promise.resolve();
        });
      }
      const share = (address: string) => (counts.get(address) ?? 0) / 3700;
      if (strategy === 'least-outstanding') {
        expect(share('a:1')).toBeCloseTo(1 / 3.7, 1);
        expect(share('c:1')).toBeCloseTo(1.7 / 3.7, 1);
      } else {
        // Latencies measured: faster ones take more, and every endpoint keeps a share.
        expect(Math.min(share('a:1'), share('b:1'), share('c:1'))).toBeGreaterThan(0.01);
      }
      balancer.close();
      // Picks before any latency is known: by weight alone.
      const fresh = new Balancer(new BehaviorSubject(huge), { strategy, logger });
      const picks = new Map<string, number>();
      for (let i = 0; i < 3700; i++) {
        const { address } = fresh.pick() as Endpoint;
        picks.set(address, (picks.get(address) ?? 0) + 1);
      }
      expect((picks.get('a:1') ?? 0) / 3700).toBeCloseTo(1 / 3.7, 1);
      expect((picks.get('b:1') ?? 0) / 3700).toBeCloseTo(1 / 3.7, 1);
      expect((picks.get('c:1') ?? 0) / 3700).toBeCloseTo(1.7 / 3.7, 1);
      fresh.close();
    },
  );

  it.each(['least-outstanding', 'latency'] as const)(
    'keeps every endpoint in %s picks with such weights',
    (strategy) => {
      const balancer = new Balancer(new BehaviorSubject(huge), { strategy, logger });
      const seen = new Set<string>();
      for (let i = 0; i < 500; i++) {
        seen.add((balancer.pick() as Endpoint).address);
      }
      expect([...seen].sort()).toEqual(['a:1', 'b:1', 'c:1']);
      balancer.close();
    },
  );

  it.each([NaN, -1, Infinity, -Infinity, '5'])(
    'refuses a reported latency of %p with a ValidationError',
    (latencyMs) => {
      const balancer = new Balancer(new BehaviorSubject([ep('a:1')]), { logger });
      const endpoint = balancer.pick() as Endpoint;
      let error: unknown;
      try {
        balancer.report(endpoint, { ok: true, latencyMs: latencyMs as number });
      } catch (thrown) {
        error = thrown;
      }
      expect(isValidationError(error)).toBe(true);
      expect((error as Error).message).toContain('latencyMs');
      balancer.report(endpoint, { ok: true, latencyMs: 0 });
      balancer.report(endpoint, { ok: false, error: new Error('x') });
      balancer.close();
    },
  );
});

describe('Balancer metrics, under endpoint churn', () => {
  const { logger } = testLogger();

  it('keeps its series per service and outcome, however many endpoints come and go', async () => {
    const meter = testMeter();
    const list$ = new BehaviorSubject<readonly Endpoint[]>([]);
    const balancer = new Balancer(list$, { logger, meterProvider: meter.provider });
    for (let i = 0; i < 5000; i++) {
      list$.next([ep(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}:80`)]);
      await balancer.call(() => Promise.resolve(i));
    }
    const calls = (await meter.read()).get('gsr.balancer.calls') ?? [];
    expect(calls).toEqual([
      { attributes: { 'gsr.service': 'api', 'gsr.outcome': 'success' }, value: 5000 },
    ]);
    balancer.close();
    await meter.shutdown();
  });

  it('records each endpoint’s address too when asked', async () => {
    const meter = testMeter();
    const balancer = new Balancer(new BehaviorSubject([ep('a:1')]), {
      logger,
      meterProvider: meter.provider,
      endpointMetrics: true,
    });
    await balancer.call(() => Promise.resolve(1));
    expect(await meter.value('gsr.balancer.calls', { 'gsr.endpoint.address': 'a:1' })).toBe(1);
    balancer.close();
    await meter.shutdown();
  });
});
