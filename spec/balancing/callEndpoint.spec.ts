import { BehaviorSubject, from, lastValueFrom, of, Subject, toArray } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import { callEndpoint } from '../../lib/balancing/callEndpoint';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { testLogger } from '../support/testLogger';

const ep = (address: string): Endpoint => ({ service: 'api', address });
const { logger } = testLogger();

describe('callEndpoint', () => {
  it('maps each value to the result of a call on a picked endpoint', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a'), ep('b')]);
    const results = await lastValueFrom(
      from([1, 2, 3, 4]).pipe(
        callEndpoint(list$, (value, endpoint) => Promise.resolve(`${value}@${endpoint.address}`), {
          logger,
        }),
        toArray(),
      ),
    );
    expect(results.sort()).toEqual(['1@a', '2@b', '3@a', '4@b']);
  });

  it('keeps at most `concurrency` calls in flight', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a')]);
    let inFlight = 0;
    let most = 0;
    const call = async (value: number) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return value * 2;
    };
    const results = await lastValueFrom(
      from([1, 2, 3, 4, 5, 6, 7]).pipe(
        callEndpoint(list$, call, { concurrency: 2, logger }),
        toArray(),
      ),
    );
    expect(results.sort((x, y) => x - y)).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(most).toBe(2);
  });

  it('takes Observables too: the call is its last value', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a')]);
    const results = await lastValueFrom(
      of('x').pipe(
        callEndpoint(list$, () => of(1, 2, 3), { logger }),
        toArray(),
      ),
    );
    expect(results).toEqual([3]);
  });

  it('aborts the calls in flight when unsubscribed, and closes the balancer it made', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a')]);
    const signals: AbortSignal[] = [];
    const values = new Subject<number>();
    const subscription = values
      .pipe(
        callEndpoint(
          list$,
          (_value, _endpoint, signal) => {
            signals.push(signal);
            return new Promise<never>(() => undefined);
          },
          { logger },
        ),
      )
      .subscribe();
    values.next(1);
    values.next(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
    subscription.unsubscribe();
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    expect(list$.observed).toBe(false);
  });

  it('records outcomes in a balancer it is given, which then ejects what fails', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('good'), ep('bad')]);
    const balancer = new Balancer(list$, { logger, retries: 0 });
    const refused = () =>
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const results = await lastValueFrom(
      from([1, 2, 3, 4, 5, 6]).pipe(
        callEndpoint(
          balancer,
          (_value, endpoint) =>
            endpoint.address === 'bad'
              ? Promise.reject(refused())
              : Promise.resolve(endpoint.address),
          { concurrency: 1 },
        ),
        toArray(),
      ),
    ).catch((error: unknown) => error);
    expect(results).toMatchObject({ code: 'ECONNREFUSED' }); // the one call that went to bad, unretried
    expect(balancer.stats().find((s) => s.endpoint.address === 'bad')?.ejected).toBe(true);
    balancer.close();
  });

  it('refuses a bad concurrency or option at once', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([]);
    expect(() => callEndpoint(list$, () => of(1), { concurrency: 0 })).toThrow(
      'Expected `concurrency` to be a whole number >= 1 or Infinity, got `0` (number)',
    );
    expect(() => callEndpoint(list$, () => of(1), { retries: -1 })).toThrow('`retries`');
  });
});
