import { getEventListeners } from 'node:events';
import { endpointState } from '../../lib/endpoint/EndpointState';
import { isRegistryClosedError } from '../../lib/errors/RegistryClosedError';
import { isValidationError } from '../../lib/errors/ValidationError';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { simRegistry, simWorld } from '../sim/simWorld';
import { record } from '../support/observe';

/** Drain and health checks through a registry, on a simulated etcd, in virtual time. */
function setUp() {
  const world = simWorld();
  const registry = simRegistry(world);
  const held = (address: string) =>
    world.etcd.get(`sim/services/web/${address}`)?.entry.value.toString();
  const states = (list: readonly Endpoint[] | undefined) =>
    list?.map((endpoint) => `${endpoint.address} ${endpointState(endpoint)}`);
  return { ...world, registry, held, states };
}

describe('registry.drain (on a simulated etcd)', () => {
  it('marks every key draining, waits for etcd and the delay, and keeps the keys', async () => {
    const { registry, run, until, clock, held, states } = setUp();
    const a = record(registry.register({ service: 'web', address: 'a:1', metadata: { v: 1 } }));
    record(registry.register({ service: 'web', address: 'b:1' }));
    const list = record(registry.endpoints$('web'));
    await run(100);
    expect(states(list.latest)).toEqual(['a:1 serving', 'b:1 serving']);

    const started = clock.now();
    let resolved = false;
    const drained = registry.drain({ delayMs: 500 }).then(() => (resolved = true));
    await run(100);
    expect(resolved).toBe(false); // Confirmed, but the delay is not over.
    expect(held('a:1')).toBe('{"v":1,"gsr.state":"draining"}');
    expect(held('b:1')).toBe('{"gsr.state":"draining"}');
    expect(states(list.latest)).toEqual(['a:1 draining', 'b:1 draining']);
    expect(list.latest?.[0]?.metadata).toEqual({ v: 1 });
    await until(drained);
    expect(clock.now() - started).toBeGreaterThanOrEqual(500);
    expect(a.latest).toMatchObject({ state: 'draining', reregistered: false });

    // Registered after the drain: draining from its first write.
    record(registry.register({ service: 'web', address: 'c:1' }));
    await run(100);
    expect(held('c:1')).toBe('{"gsr.state":"draining"}');
    await until(registry.close());
    expect(held('a:1')).toBeUndefined();
  });

  it('resolves at once with nothing registered, and refuses a closed registry or a bad delay', async () => {
    const { registry, until } = setUp();
    await until(registry.drain({ delayMs: 60_000 }));
    expect(await registry.drain({ delayMs: -1 }).catch(isValidationError)).toBe(true);
    await expect(registry.drain({ delayMs: -1 })).rejects.toThrow(/delayMs.*-1/);
    await until(registry.close());
    expect(await registry.drain().catch(isRegistryClosedError)).toBe(true);
  });

  it('releases its listener on the registry when its signal aborts the delay', async () => {
    const { registry, run, until, closing } = setUp();
    record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    const listeners = getEventListeners(closing.signal, 'abort').length;
    const abort = new AbortController();
    const drained = registry.drain({ delayMs: 60_000, signal: abort.signal });
    await run(100); // Drained; waiting for the delay.
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(listeners + 1);
    abort.abort(new Error('enough'));
    await expect(drained).rejects.toThrow('enough');
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(listeners);
    await until(registry.close());
  });

  it('stops waiting when its signal aborts, during an outage, and writes once etcd answers', async () => {
    const { registry, run, until, port, held } = setUp();
    record(registry.register({ service: 'web', address: 'a:1' }));
    await run(100);
    port.partition();
    const abort = new AbortController();
    const drained = registry.drain({ delayMs: 0, signal: abort.signal });
    await run(1000); // Less than the lease's 3 s: the key stays as it was.
    abort.abort(new Error('gave up'));
    await expect(drained).rejects.toThrow('gave up');
    expect(held('a:1')).toBe('');
    port.heal();
    await run(5000);
    expect(held('a:1')).toBe('{"gsr.state":"draining"}');
    await until(registry.close());
  });
});

describe('health-checked registrations (on a simulated etcd)', () => {
  it('writes the first outcome, turns failing after unhealthyAfter failures and back after healthyAfter passes', async () => {
    const { registry, run, until, held, clock } = setUp();
    let healthy = true;
    const checks: number[] = [];
    const registration = record(
      registry.register(
        { service: 'web', address: 'a:1' },
        {
          check: () => {
            checks.push(clock.now());
            if (!healthy) throw new Error('database unreachable');
          },
          checkIntervalMs: 1000,
          unhealthyAfter: 3,
          healthyAfter: 2,
        },
      ),
    );
    await run(100);
    expect(held('a:1')).toBe('');
    healthy = false;
    await run(2000); // Two failures: still serving.
    expect(held('a:1')).toBe('');
    await run(1000); // The third.
    expect(held('a:1')).toBe('{"gsr.state":"failing"}');
    healthy = true;
    await run(1000);
    expect(held('a:1')).toBe('{"gsr.state":"failing"}');
    await run(1000);
    expect(held('a:1')).toBe('');
    expect(registration.values.map((r) => r.state)).toEqual(['serving', 'failing', 'serving']);
    expect(registration.values.every((r) => !r.reregistered)).toBe(true);
    // One check at a time, one interval after the last.
    expect(checks.slice(0, 4)).toEqual([0, 1000, 2000, 3000].map((t) => (checks[0] ?? NaN) + t));
    registration.subscription.unsubscribe();
    const count = checks.length;
    await run(10_000);
    expect(checks).toHaveLength(count); // Its checks stop with it.
    await until(registry.close());
  });

  it('writes nothing before the first check settles, and a failing first check writes failing', async () => {
    const { registry, run, until, held } = setUp();
    record(
      registry.register(
        { service: 'web', address: 'a:1' },
        { check: () => Promise.reject(new Error('not ready')), checkTimeoutMs: 500 },
      ),
    );
    let settle: () => void = () => undefined;
    record(
      registry.register(
        { service: 'web', address: 'b:1' },
        { check: () => new Promise<void>((resolve) => (settle = resolve)), checkTimeoutMs: 5000 },
      ),
    );
    await run(100);
    expect(held('a:1')).toBe('{"gsr.state":"failing"}');
    expect(held('b:1')).toBeUndefined();
    settle();
    await run(100);
    expect(held('b:1')).toBe('');
    await until(registry.close());
  });

  it('writes failing when the first check throws at once, as a check of an undefined client does', async () => {
    const { registry, run, until, held, logs } = setUp();
    const db = undefined as unknown as { ping(): Promise<void> };
    const registration = record(
      registry.register({ service: 'web', address: 'a:1' }, { check: () => db.ping() }),
    );
    await run(100);
    expect(held('a:1')).toBe('{"gsr.state":"failing"}');
    expect(registration.latest?.state).toBe('failing');
    expect(logs).toContainEqual(expect.stringContaining("reading 'ping'"));
    await until(registry.close());
  });

  it('counts a check that never settles as failed, and aborts its signal', async () => {
    const { registry, run, until, held } = setUp();
    const signals: AbortSignal[] = [];
    record(
      registry.register(
        { service: 'web', address: 'a:1' },
        {
          check: (signal) => {
            signals.push(signal);
            return new Promise(() => undefined);
          },
          checkTimeoutMs: 200,
          checkIntervalMs: 1000,
          unhealthyAfter: 1,
        },
      ),
    );
    await run(100);
    expect(held('a:1')).toBeUndefined();
    await run(200);
    expect(held('a:1')).toBe('{"gsr.state":"failing"}');
    expect(signals[0]?.aborted).toBe(true);
    await until(registry.close());
  });

  it('refuses invalid options before writing anything, naming the option', async () => {
    const { registry, run, until, held } = setUp();
    const web = { service: 'web', address: 'a:1' };
    const cases: [unknown, RegExp][] = [
      [{ check: 'yes' }, /check/],
      [{ check: () => true, checkIntervalMs: 0 }, /checkIntervalMs.*0/],
      [{ check: () => true, checkTimeoutMs: 1.5 }, /checkTimeoutMs.*1\.5/],
      [{ check: () => true, unhealthyAfter: -1 }, /unhealthyAfter/],
      [{ check: () => true, healthyAfter: '2' }, /healthyAfter/],
      [{ checkIntervalMs: 1000 }, /checkIntervalMs.*check is missing/],
      [42, /options/],
    ];
    for (const [options, message] of cases) {
      const attempt = record(registry.register(web, options as never));
      expect(isValidationError(attempt.error)).toBe(true);
      expect(attempt.error).toHaveProperty('message', expect.stringMatching(message));
    }
    const stated = record(registry.register({ ...web, state: 'draining' } as never));
    expect(stated.error).toHaveProperty('message', expect.stringMatching(/state/));
    const own = record(registry.register({ ...web, metadata: { 'gsr.state': 'serving' } }));
    expect(own.error).toHaveProperty('message', expect.stringMatching(/gsr\.state/));
    await run(100);
    expect(held('a:1')).toBeUndefined();
    await until(registry.close());
  });
});
