import { systemClock } from '../../lib/etcd/Clock';
import { BehaviorSubject, Subject } from 'rxjs';
import { attemptsOf } from '../../lib/balancing/attemptsOf';
import { Balancer } from '../../lib/balancing/Balancer';
import type { BalancerOptions } from '../../lib/balancing/BalancerOptions';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { NoEndpointError } from '../../lib/errors/NoEndpointError';
import { testLogger } from '../support/testLogger';

const ep = (address: string): Endpoint => ({ service: 'api', address });

describe('Balancer', () => {
  it('picks synchronously from the latest list, round-robin', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a'), ep('b')]);
    const balancer = new Balancer(list$);
    expect([balancer.pick(), balancer.pick(), balancer.pick()].map((e) => e?.address)).toEqual([
      'a',
      'b',
      'a',
    ]);
    list$.next([ep('c')]);
    expect(balancer.pick()?.address).toBe('c');
    expect(balancer.endpoints).toEqual([ep('c')]);
    balancer.close();
  });

  it('returns undefined while the list is empty, or after the list failed', () => {
    const list$ = new Subject<readonly Endpoint[]>();
    const balancer = new Balancer(list$);
    expect(balancer.pick()).toBeUndefined();
    list$.next([ep('a')]);
    expect(balancer.pick()).toBeDefined();
    list$.error(new Error('permission denied'));
    expect(balancer.pick()).toBeUndefined();
  });

  it('unsubscribes when closed', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a')]);
    const balancer = new Balancer(list$);
    expect(list$.observed).toBe(true);
    balancer.close();
    expect(list$.observed).toBe(false);
    expect(balancer.pick()).toBeUndefined();
  });
});

/** An error as `fetch` gives it when nothing listens: undici's TypeError, the socket's error as cause. */
const refused = () =>
  Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
  });
const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const answered = (status: number) => Object.assign(new Error(`HTTP ${status}`), { status });

describe('Balancer.call', () => {
  const { logger, lines } = testLogger();
  beforeEach(() => {
    jest.useFakeTimers();
    lines.splice(0);
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** A balancer over `addresses`, whose calls answer as `behaviour` says for each address. */
  function setUp(addresses: string[], options: BalancerOptions = {}) {
    const list$ = new BehaviorSubject<readonly Endpoint[]>(addresses.map(ep));
    const balancer = new Balancer(list$, { logger, ...options });
    const calls: string[] = [];
    const behaviour = new Map<string, () => Error>();
    const call = () =>
      balancer.call((endpoint) => {
        calls.push(endpoint.address);
        const fail = behaviour.get(endpoint.address);
        return fail === undefined ? Promise.resolve(endpoint.address) : Promise.reject(fail());
      });
    return { list$, balancer, calls, behaviour, call };
  }

  it('resolves with what the call gave, and records it', async () => {
    const { balancer, call } = setUp(['a']);
    await expect(call()).resolves.toBe('a');
    expect(balancer.stats()).toEqual([
      expect.objectContaining({
        endpoint: ep('a'),
        successes: 1,
        failures: 0,
        inFlight: 0,
        ejected: false,
      }),
    ]);
    balancer.close();
  });

  it('retries a refused or reset call on another endpoint, and no more than `retries` times', async () => {
    const { call, calls, behaviour, balancer } = setUp(['a', 'b', 'c', 'd'], { outlier: false });
    behaviour.set('a', refused);
    behaviour.set('b', reset);
    const answer = await call();
    expect(['c', 'd']).toContain(answer);
    expect(calls[0]).toBe('a');
    expect(calls[calls.length - 1]).toBe(answer);
    expect(new Set(calls).size).toBe(calls.length); // never the same endpoint twice
    calls.splice(0);
    behaviour.set('c', refused);
    behaviour.set('d', refused);
    // Three attempts at most (retries: 2), each on an endpoint not tried yet.
    const error = await call().catch((e: unknown) => e);
    expect(calls).toHaveLength(3);
    expect(new Set(calls).size).toBe(3);
    expect(attemptsOf(error).map((a) => a.endpoint.address)).toEqual(calls);
    expect(error).toBe(attemptsOf(error)[2]?.error); // what the caller sees is the last attempt's error
    balancer.close();
  });

  it('does not retry what may have had an effect (an answer the call turned into an error)', async () => {
    const { call, calls, behaviour, balancer } = setUp(['a', 'b']);
    behaviour.set('a', () => answered(500));
    await expect(call()).rejects.toMatchObject({ status: 500 });
    expect(calls).toEqual(['a']);
    balancer.close();
  });

  it('stops retrying when the retry budget is spent', async () => {
    const { call, calls, behaviour, balancer } = setUp(['a', 'b'], {
      outlier: false,
      retryBudget: { percent: 0, minPerSecond: 0.2, windowMs: 10_000 }, // 2 retries in the window
    });
    behaviour.set('a', refused);
    behaviour.set('b', refused);
    for (let i = 0; i < 5; i++) {
      await call().catch(() => undefined);
    }
    // 5 calls: 5 first attempts, and only 2 retries.
    expect(calls).toHaveLength(7);
    balancer.close();
  });

  it('ejects an endpoint after three failures in a row, lets it back on probation, and doubles the interval', async () => {
    const { call, calls, behaviour, balancer } = setUp(['a', 'b', 'c'], { retries: 0 });
    behaviour.set('a', () => answered(500));
    for (let i = 0; i < 9; i++) {
      await call().catch(() => undefined);
    }
    expect(calls.filter((address) => address === 'a')).toHaveLength(3);
    expect(balancer.stats()[0]).toMatchObject({
      ejected: true,
      probation: false,
      consecutiveFailures: 3,
    });
    expect(lines).toContainEqual(
      expect.stringContaining('ejected a for 2000ms: it failed 3 time(s) in a row'),
    );

    calls.splice(0);
    for (let i = 0; i < 10; i++) {
      await call().catch(() => undefined);
    }
    expect(calls).not.toContain('a'); // out for its interval

    jest.advanceTimersByTime(2000);
    expect(balancer.stats()[0]).toMatchObject({ ejected: true, probation: true });
    calls.splice(0);
    for (let i = 0; i < 6; i++) {
      await call().catch(() => undefined);
    }
    expect(calls.filter((address) => address === 'a')).toHaveLength(1); // one trial, which fails
    expect(lines).toContainEqual(expect.stringContaining('ejected a for 4000ms'));

    jest.advanceTimersByTime(4000);
    behaviour.delete('a'); // it recovered
    calls.splice(0);
    for (let i = 0; i < 6; i++) {
      await call();
    }
    expect(calls.filter((address) => address === 'a').length).toBeGreaterThanOrEqual(2);
    expect(balancer.stats()[0]).toMatchObject({ ejected: false, probation: false });
    expect(lines).toContainEqual(expect.stringContaining('a answered its trial call: readmitted'));
    balancer.close();
  });

  it('ejects at once an endpoint that refused a connection, and the call goes elsewhere', async () => {
    const { call, calls, behaviour, balancer } = setUp(['a', 'b', 'c']);
    behaviour.set('a', refused);
    for (let i = 0; i < 6; i++) {
      await expect(call()).resolves.not.toBe('a');
    }
    expect(calls.filter((address) => address === 'a')).toHaveLength(1);
    balancer.close();
  });

  it('never ejects more than maxEjectionPercent of the list, and picks among all when none may be picked', async () => {
    const { call, calls, behaviour, balancer } = setUp(['a', 'b', 'c', 'd'], { retries: 0 });
    for (const address of ['a', 'b', 'c', 'd']) {
      behaviour.set(address, refused);
    }
    for (let i = 0; i < 8; i++) {
      await call().catch(() => undefined);
    }
    // Half of four: two ejected at most.
    expect(balancer.stats().filter((s) => s.ejected)).toHaveLength(2);

    const {
      balancer: alone,
      call: callAlone,
      calls: aloneCalls,
      behaviour: aloneBehaviour,
    } = setUp(['x']);
    aloneBehaviour.set('x', refused);
    await callAlone().catch(() => undefined);
    expect(alone.stats()[0]?.ejected).toBe(true);
    // Panic mode: with every endpoint ejected, the call still goes to one.
    await callAlone().catch(() => undefined);
    expect(aloneCalls).toEqual(['x', 'x']);
    balancer.close();
    alone.close();
    expect(calls.length).toBe(8);
  });

  it('forgets an endpoint that leaves the list; one that comes back starts fresh', async () => {
    const { call, behaviour, balancer, list$ } = setUp(['a', 'b']);
    behaviour.set('a', refused);
    for (let i = 0; i < 4; i++) {
      await call().catch(() => undefined);
    }
    expect(balancer.stats().find((s) => s.endpoint.address === 'a')?.ejected).toBe(true);
    list$.next([ep('b')]);
    list$.next([ep('a'), ep('b')]);
    expect(balancer.stats().find((s) => s.endpoint.address === 'a')).toMatchObject({
      ejected: false,
      failures: 0,
    });
    balancer.close();
  });

  it('does not count a call its caller aborted against the endpoint, and does not retry it', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a'), ep('b')]);
    const balancer = new Balancer(list$, { logger });
    const controller = new AbortController();
    const seen: AbortSignal[] = [];
    let started: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const pending = balancer.call(
      (_endpoint, signal) =>
        new Promise((_resolve, reject) => {
          seen.push(signal);
          signal.addEventListener('abort', () => reject(signal.reason as Error));
          started();
        }),
      { signal: controller.signal },
    );
    await inFlight;
    controller.abort(new Error('the client went away'));
    await expect(pending).rejects.toThrow('the client went away');
    expect(seen).toHaveLength(1);
    expect(balancer.stats().map((s) => [s.inFlight, s.failures])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    balancer.close();
  });

  it('waits for an endpoint while the list is empty, up to its timeout', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([]);
    const balancer = new Balancer(list$, { logger, timeout: 1000 });
    const waiting = balancer.call((endpoint) => Promise.resolve(endpoint.address));
    list$.next([ep('late')]);
    await expect(waiting).resolves.toBe('late');
    list$.next([]);
    const lonely = balancer.call((endpoint) => Promise.resolve(endpoint.address));
    jest.advanceTimersByTime(1000);
    await expect(lonely).rejects.toThrow(NoEndpointError);
    balancer.close();
  });

  it('records outcomes of calls made without it', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a')]);
    const balancer = new Balancer(list$, { logger });
    const endpoint = balancer.pick() as Endpoint;
    balancer.report(endpoint, { ok: true, latencyMs: 12 });
    balancer.report(endpoint, { ok: false, error: refused() });
    balancer.report(ep('gone'), { ok: true }); // not in the list: ignored
    expect(balancer.stats()[0]).toMatchObject({
      successes: 1,
      failures: 1,
      latencyMs: 12,
      ejected: true,
    });
    balancer.close();
  });

  it("keeps calls in its zone (priority 0) until fewer than 1/1.4 of it is healthy, then spills by Envoy's priority load", () => {
    const zoned = (address: string, zone: string): Endpoint => ({
      service: 'api',
      address,
      metadata: { zone },
    });
    // Draws evenly spaced over [0, 1): shares become exact counts.
    let draw = 0;
    const clock = { ...systemClock, random: () => (draw++ % 100) / 100 };
    const list$ = new BehaviorSubject<readonly Endpoint[]>([
      zoned('a1', 'a'),
      zoned('a2', 'a'),
      zoned('b1', 'b'),
    ]);
    const balancer = new Balancer(list$, { logger, zone: 'a', retries: 0, clock });
    const count = (picks: number): Record<string, number> => {
      const counts: Record<string, number> = {};
      for (let i = 0; i < picks; i += 1) {
        const address = balancer.pick()?.address ?? 'none';
        counts[address] = (counts[address] ?? 0) + 1;
      }
      return counts;
    };
    expect(count(100)).toEqual({ a1: 50, a2: 50 });
    // a1 out: zone a is half healthy, health ⌊1.4 × 50⌋ = 70 %: it keeps 70 of 100 calls.
    balancer.report(zoned('a1', 'a'), { ok: false, error: refused() });
    expect(count(100)).toEqual({ a2: 70, b1: 30 });
    expect(balancer.locality()).toMatchObject({ load: [70, 30] });
    // a2 out too (four endpoints: two may be ejected): zone a has none healthy left, every call spills.
    list$.next([zoned('a1', 'a'), zoned('a2', 'a'), zoned('b1', 'b'), zoned('b2', 'b')]);
    balancer.report(zoned('a2', 'a'), { ok: false, error: refused() });
    expect(count(100)).toEqual({ b1: 50, b2: 50 });
    balancer.close();
  });

  it('weighs endpoints by metadata.weight, and treats a bad weight as 1, logged once', () => {
    const weighted = (address: string, weight: unknown): Endpoint => ({
      service: 'api',
      address,
      metadata: { weight },
    });
    const list$ = new BehaviorSubject<readonly Endpoint[]>([
      weighted('heavy', 3),
      weighted('light', 1),
      weighted('bad', -2),
      weighted('worse', 'lots'),
    ]);
    const balancer = new Balancer(list$, { logger });
    const seen: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      const address = balancer.pick()?.address ?? '';
      seen[address] = (seen[address] ?? 0) + 1;
    }
    expect(seen).toEqual({ heavy: 30, light: 10, bad: 10, worse: 10 });
    list$.next([...list$.value]); // the same list again: no second warning
    expect(lines.filter((line) => line.includes('metadata.weight'))).toEqual([
      expect.stringContaining(
        'endpoint bad of "api" has metadata.weight -2, not a positive number: treated as 1',
      ),
      expect.stringContaining('endpoint worse of "api" has metadata.weight "lots"'),
    ]);
    balancer.close();
  });

  it.each([
    [{ retries: -1 }, 'Expected `retries` to be a whole number >= 0, got `-1` (number)'],
    [{ retries: 1.5 }, 'Expected `retries` to be a whole number >= 0, got `1.5` (number)'],
    [
      { outlier: { maxEjectionPercent: 120 } },
      'Expected `outlier.maxEjectionPercent` to be a percentage from 0 to 100, got `120` (number)',
    ],
    [
      { retryBudget: { percent: -5 } },
      'Expected `retryBudget.percent` to be a percentage from 0 to 100, got `-5` (number)',
    ],
    [
      { outlier: { consecutiveFailures: 0 } },
      'Expected `outlier.consecutiveFailures` to be a whole number >= 1, got `0` (number)',
    ],
    [
      { strategy: 'fastest' },
      "Expected `strategy` to be one of 'round-robin', 'random', 'least-outstanding', 'latency', 'weighted-round-robin' or a function, got `fastest` (string)",
    ],
    [{ zone: '' }, "Expected `zone` to be a non-empty string, got `''` (string)"],
    [
      { latency: { decayMs: 0 } },
      'Expected `latency.decayMs` to be a number of milliseconds > 0, got `0` (number)',
    ],
  ])('refuses %j, naming the option and the value', (options, message) => {
    expect(
      () => new Balancer(new BehaviorSubject<readonly Endpoint[]>([]), options as BalancerOptions),
    ).toThrow(new TypeError(message));
  });
});
