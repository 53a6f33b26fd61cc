import { of, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { withEndpoint } from '../../lib/balancing/withEndpoint';
import { isStrategyError } from '../../lib/errors/StrategyError';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { NoEndpointError } from '../../lib/errors/NoEndpointError';

const ep = (address: string): Endpoint => ({ service: 'api', address });
const [a, b, c] = [ep('a'), ep('b'), ep('c')];

describe('withEndpoint', () => {
  const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

  it('pairs values with endpoints round-robin: 30 values over 3 endpoints go 10/10/10', () => {
    const counts = new Map<string, number>();
    const values: number[] = [];
    of(...Array.from({ length: 30 }, (_, i) => i))
      .pipe(withEndpoint(of([a, b, c])))
      .subscribe(({ value, endpoint }) => {
        values.push(value);
        counts.set(endpoint.address, (counts.get(endpoint.address) ?? 0) + 1);
      });
    expect(Object.fromEntries(counts)).toEqual({ a: 10, b: 10, c: 10 });
    expect(values).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('holds values while the list is empty and sends them, in order, when an endpoint comes', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const endpoints$ = hot('e---l-------', { e: [], l: [a] });
      // A group such as (xy) spans as many frames as it has characters: 3 comes at frame 9.
      const source$ = cold('-1-2-----3-|');
      expectObservable(source$.pipe(withEndpoint(endpoints$))).toBe('----(xy)-z-|', {
        x: { value: '1', endpoint: a },
        y: { value: '2', endpoint: a },
        z: { value: '3', endpoint: a },
      });
    });
  });

  it('never picks an endpoint after a list without it was emitted', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const endpoints$ = hot('l--m-----', { l: [a, b], m: [b] });
      const source$ = cold('-1-2-3-4|');
      expectObservable(source$.pipe(withEndpoint(endpoints$))).toBe('-w-x-y-z|', {
        w: { value: '1', endpoint: a },
        x: { value: '2', endpoint: b },
        y: { value: '3', endpoint: b },
        z: { value: '4', endpoint: b },
      });
    });
  });

  it('errors with a NoEndpointError when a value waits longer than the timeout', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const endpoints$ = hot('e------', { e: [] });
      const source$ = cold('-1-----');
      expectObservable(source$.pipe(withEndpoint(endpoints$, { timeout: 3 }))).toBe(
        '----#',
        undefined,
        new NoEndpointError(3, 'timeout'),
      );
    });
  });

  it('does not time out a value that found an endpoint in time', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const endpoints$ = hot('e-l----', { e: [], l: [a] });
      const source$ = cold('-1----|');
      expectObservable(source$.pipe(withEndpoint(endpoints$, { timeout: 3 }))).toBe('--x---|', {
        x: { value: '1', endpoint: a },
      });
    });
  });

  it('errors when the list completes empty with values waiting', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const endpoints$ = hot('e--|', { e: [] });
      const source$ = cold('-1----');
      expectObservable(source$.pipe(withEndpoint(endpoints$))).toBe(
        '---#',
        undefined,
        new NoEndpointError(2, 'completed'),
      );
    });
  });

  it('completes only once the waiting values went out', () => {
    scheduler().run(({ hot, cold, expectObservable }) => {
      const endpoints$ = hot('e---l', { e: [], l: [b] });
      expectObservable(cold('-1|').pipe(withEndpoint(endpoints$))).toBe('----(x|)', {
        x: { value: '1', endpoint: b },
      });
    });
  });

  it('passes the source’s error through and unsubscribes from both inputs', () => {
    scheduler().run(({ hot, cold, expectObservable, expectSubscriptions }) => {
      const endpoints$ = hot('l-------', { l: [a] });
      const source$ = cold('-1-#');
      expectObservable(source$.pipe(withEndpoint(endpoints$))).toBe('-x-#', {
        x: { value: '1', endpoint: a },
      });
      expectSubscriptions(endpoints$.subscriptions).toBe('^--!');
      expectSubscriptions(source$.subscriptions).toBe('^--!');
    });
  });

  it('picks at random from the latest list', () => {
    const picked = new Set<string>();
    of(...Array.from({ length: 200 }, (_, i) => i))
      .pipe(withEndpoint(of([a, b, c]), { strategy: 'random' }))
      .subscribe(({ endpoint }) => picked.add(endpoint.address));
    expect([...picked].sort()).toEqual(['a', 'b', 'c']);
  });

  it('uses a picker of your own, and refuses one that picks outside the list', () => {
    const byValue = (endpoints: readonly Endpoint[], value: number) =>
      endpoints[value % endpoints.length] as Endpoint;
    const out: string[] = [];
    of(0, 1, 2, 4)
      .pipe(withEndpoint(of([a, b, c]), { strategy: byValue }))
      .subscribe(({ endpoint }) => out.push(endpoint.address));
    expect(out).toEqual(['a', 'b', 'c', 'b']);

    let error: unknown;
    of(1)
      .pipe(withEndpoint(of([a]), { strategy: () => ep('z') }))
      .subscribe({ error: (e: unknown) => (error = e) });
    expect(isStrategyError(error)).toBe(true);
    expect((error as Error).message).toBe(
      "The balancer's strategy returned an endpoint that is not in the list it was given",
    );
  });

  it('keeps its own turn per subscription', () => {
    const list$ = new Subject<readonly Endpoint[]>();
    const operator = withEndpoint<number>(list$);
    const first: string[] = [];
    const second: string[] = [];
    const source$ = new Subject<number>();
    source$.pipe(operator).subscribe(({ endpoint }) => first.push(endpoint.address));
    source$.pipe(operator).subscribe(({ endpoint }) => second.push(endpoint.address));
    list$.next([a, b]);
    source$.next(1);
    source$.next(2);
    expect(first).toEqual(['a', 'b']);
    expect(second).toEqual(['a', 'b']);
  });

  it('rejects a bad timeout', () => {
    expect(() => withEndpoint(of([a]), { timeout: -1 })).toThrow(
      'Expected `timeout` to be a number of milliseconds >= 0, got `-1` (number)',
    );
  });
});
