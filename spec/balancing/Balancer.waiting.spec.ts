import { Subject } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import { markService } from '../../lib/endpoint/listedService';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { isNoEndpointError, type NoEndpointError } from '../../lib/errors/NoEndpointError';
import { testLogger } from '../support/testLogger';

/** A list as `registry.endpoints$('data-access')` gives it: it says which service it lists. */
const listOf = (service: string) => markService(new Subject<readonly Endpoint[]>(), service);

describe('Balancer.call while no endpoint may be picked', () => {
  const { logger, lines } = testLogger();
  beforeEach(() => {
    jest.useFakeTimers();
    lines.splice(0);
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('waits 30 s by default, says so after 5 s, then rejects with a NoEndpointError naming the service', async () => {
    const balancer = new Balancer(listOf('data-access'), { logger });
    const call = balancer.call(() => Promise.resolve('never')).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(5000);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^warn: balancer: 1 call\(s\) have waited 5000ms for an endpoint of "data-access" .* up to 30000ms$/,
      ),
    );
    await jest.advanceTimersByTimeAsync(25_000);
    const error = (await call) as NoEndpointError;
    expect(isNoEndpointError(error)).toBe(true);
    expect(error).toMatchObject({ reason: 'timeout', service: 'data-access' });
    expect(error.message).toBe('No endpoint of "data-access" became available within 30000ms');
    balancer.close();
  });

  it('waits as long as it takes with timeout: Infinity, and goes as soon as one comes', async () => {
    const list$ = listOf('web');
    const balancer = new Balancer(list$, { logger, timeout: Infinity });
    const call = balancer.call((endpoint) => Promise.resolve(endpoint.address));
    await jest.advanceTimersByTimeAsync(3_600_000);
    list$.next([{ service: 'web', address: 'a:1' }]);
    await expect(call).resolves.toBe('a:1');
    balancer.close();
  });

  it('says the balancer was closed, naming the service, to the calls that waited', async () => {
    const balancer = new Balancer(listOf('web'), { logger });
    const call = balancer.call(() => Promise.resolve('never')).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(100);
    balancer.close();
    const error = (await call) as NoEndpointError;
    expect(error).toMatchObject({ reason: 'closed', service: 'web' });
    expect(error.message).toBe(
      'The balancer of "web" was closed while a call waited 100ms for an endpoint',
    );
  });

  it('names the service from the list itself when the list does not say', async () => {
    const list$ = new Subject<readonly Endpoint[]>();
    const balancer = new Balancer(list$, { logger, timeout: 1000 });
    list$.next([{ service: 'api', address: 'a:1' }]);
    list$.next([]);
    const call = balancer.call(() => Promise.resolve('never')).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1000);
    expect((await call) as NoEndpointError).toMatchObject({ service: 'api' });
    balancer.close();
  });
});
