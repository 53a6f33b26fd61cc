import { EtcdFailure } from '../../lib/etcd/EtcdFailure';
import { Retrier } from '../../lib/etcd/Retrier';
import { RETRY_INITIAL_DELAY_MS, RETRY_MAX_DELAY_MS } from '../../lib/etcd/retryBackoff';
import { simWorld } from '../sim/simWorld';

const operation = { key: 'gsr/services/web/', description: 'watch gsr/services/web/' };

describe('Retrier', () => {
  it('schedules each retry on the backoff: growing from 100 ms to 2 s, each in the upper half of its step', async () => {
    const { context, clock, run } = simWorld({ seed: 7 });
    const retrier = new Retrier(context, operation);
    const delays: number[] = [];
    let last = clock.now();
    const attempt = (): void => {
      delays.push(clock.now() - last);
      last = clock.now();
      if (delays.length < 8) {
        retrier.failed(new EtcdFailure('unavailable', 'down'), attempt);
      }
    };
    retrier.failed(new EtcdFailure('unavailable', 'down'), attempt);
    await run();
    const steps = [100, 200, 400, 800, 1600, 2000, 2000, 2000];
    expect(delays).toHaveLength(steps.length);
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual((steps[i] as number) / 2);
      expect(delay).toBeLessThanOrEqual(steps[i] as number);
    });
    expect(RETRY_INITIAL_DELAY_MS).toBe(100);
    expect(RETRY_MAX_DELAY_MS).toBe(2000);
  });

  it('starts afresh after a success', async () => {
    const { context, clock, run } = simWorld();
    const retrier = new Retrier(context, operation);
    const fail = () => retrier.failed(new EtcdFailure('unavailable', 'down'), () => undefined);
    fail();
    await run();
    fail();
    await run();
    fail();
    await run(); // The third delay would be 400 ms at most.
    retrier.succeeded();
    const before = clock.now();
    fail();
    await run();
    expect(clock.now() - before).toBeLessThanOrEqual(100);
  });

  it('retries etcd out of space, and says so as a warning (an operator must act), once, and its end', async () => {
    const { context, run, logs } = simWorld();
    const retrier = new Retrier(context, {
      key: 'gsr/services/web/a:1',
      description: 'register a:1',
    });
    const noSpace = new EtcdFailure('no-space', 'etcdserver: mvcc: database space exceeded');
    let attempts = 0;
    const attempt = (): void => {
      attempts += 1;
      if (attempts < 5) {
        expect(retrier.failed(noSpace, attempt)).toBeUndefined();
      } else {
        retrier.succeeded();
      }
    };
    attempt();
    await run();
    expect(attempts).toBe(5);
    expect(logs.filter((line) => line.startsWith('warn'))).toEqual([
      'warn: register a:1 waits: etcd is out of space (NOSPACE alarm); retrying until an operator frees space and disarms the alarm',
      'warn: register a:1 succeeded after retrying',
    ]);
  });

  it('returns what retrying cannot settle, and schedules nothing', () => {
    const { context, clock } = simWorld();
    const retrier = new Retrier(context, operation);
    expect(retrier.failed(new EtcdFailure('lease-not-found', 'gone'), () => undefined)).toEqual({
      kind: 'lease-lost',
    });
    expect(retrier.failed(new EtcdFailure('permission-denied', 'no'), () => undefined)?.kind).toBe(
      'refused',
    );
    expect(retrier.waiting).toBe(false);
    expect(clock.liveTimers()).toBe(0);
  });

  it('cancels a scheduled attempt', async () => {
    const { context, run } = simWorld();
    const retrier = new Retrier(context, operation);
    let attempts = 0;
    retrier.failed(new EtcdFailure('unavailable', 'down'), () => (attempts += 1));
    expect(retrier.waiting).toBe(true);
    retrier.cancel();
    await run();
    expect(attempts).toBe(0);
    expect(retrier.waiting).toBe(false);
  });
});
