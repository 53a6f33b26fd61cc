import fc from 'fast-check';
import { OVERRIDE_LIMITS, OverrideList } from '../../lib/discovery/OverrideList';
import { isPreconditionError } from '../../lib/errors/PreconditionError';
import { endpointState } from '../../lib/endpoint/EndpointState';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { isValidationError } from '../../lib/errors/ValidationError';
import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import { OnceLog } from '../../lib/logging/OnceLog';
import { simRegistry, simWorld } from '../sim/simWorld';
import { record } from '../support/observe';
import { testLogger } from '../support/testLogger';

const states = (list: readonly Endpoint[] | undefined) =>
  list?.map((endpoint) => `${endpoint.address} ${endpointState(endpoint)}`);

describe("operators' overrides (on a simulated etcd)", () => {
  function setUp() {
    const world = simWorld();
    const registry = simRegistry(world);
    return { ...world, registry };
  }

  it('take an endpoint out of every list, with the reason and since when, until cleared', async () => {
    const { registry, run, until, etcd, clock } = setUp();
    record(registry.register({ service: 'web', address: 'a:1' }));
    record(registry.register({ service: 'web', address: 'b:1' }));
    const list = record(registry.endpoints$('web'));
    await run(100);
    expect(states(list.latest)).toEqual(['a:1 serving', 'b:1 serving']);

    const at = new Date(clock.now()).toISOString();
    await until(registry.setMaintenance('web', 'a:1', { reason: 'disk swap' }));
    await run(100);
    expect(states(list.latest)).toEqual(['a:1 maintenance', 'b:1 serving']);
    expect(list.latest?.[0]?.maintenance).toEqual({
      reason: 'disk swap',
      since: at,
    });
    expect(states(await until(registry.endpoints('web')))).toEqual([
      'a:1 maintenance',
      'b:1 serving',
    ]);
    // Stored apart, with no lease: the instance's own key is untouched.
    expect(etcd.get('sim/overrides/web/a:1')?.entry.lease).toBe('0');
    expect(etcd.get('sim/services/web/a:1')?.entry.value.toString()).toBe('');

    await until(registry.clearMaintenance('web', 'a:1'));
    await run(100);
    expect(states(list.latest)).toEqual(['a:1 serving', 'b:1 serving']);
    await until(registry.close());
  });

  it("survive the instance's self-healing, its deregistration and a restart at the same address", async () => {
    const { registry, run, until, etcd } = setUp();
    const first = record(registry.register({ service: 'web', address: 'a:1' }));
    const list = record(registry.endpoints$('web'));
    await run(100);
    await until(registry.setMaintenance('web', 'a:1', { reason: 'flaky NIC' }));
    etcd.deleteKey('sim/services/web/a:1', undefined, 'operator'); // Healed by the registration.
    await run(100);
    expect(states(list.latest)).toEqual(['a:1 maintenance']);
    first.subscription.unsubscribe();
    await run(100);
    expect(states(list.latest)).toEqual([]);
    const overrides = await until(registry.overrides());
    expect(overrides.map((o) => [o.service, o.address, o.maintenance.reason])).toEqual([
      ['web', 'a:1', 'flaky NIC'],
    ]);
    record(registry.register({ service: 'web', address: 'a:1' })); // The restart.
    await run(100);
    expect(states(list.latest)).toEqual(['a:1 maintenance']);
    await until(registry.close());
  });

  it('refuse bad input before writing anything, naming the field', async () => {
    const { registry, until, etcd } = setUp();
    const cases: [Promise<void>, RegExp][] = [
      [registry.setMaintenance('web', 'no-port', { reason: 'x' }), /address/],
      [registry.setMaintenance('we b', 'a:1'), /service/],
      [registry.setMaintenance('web', 'a:1', { reason: 'a\u001b[2Jb' }), /reason.*control/],
      [registry.setMaintenance('web', 'a:1', { reason: 'x'.repeat(201) }), /reason.*200/],
      [registry.clearMaintenance('web', 'a/b:1'), /address/],
    ];
    for (const [attempt, message] of cases) {
      const error = await until(
        attempt.then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(isValidationError(error)).toBe(true);
      expect(error).toHaveProperty('message', expect.stringMatching(message));
    }
    expect(etcd.get('sim/overrides/web/a:1')).toBeUndefined();
    await until(registry.close());
  });

  it('skip what is not an override, with one log line each, and keep the rest', async () => {
    const { registry, run, until, etcd, logs } = setUp();
    record(registry.register({ service: 'web', address: 'a:1' }));
    record(registry.register({ service: 'web', address: 'b:1' }));
    const list = record(registry.endpoints$('web'));
    const put = (key: string | Buffer, value: string) =>
      etcd.putAll([{ key, value, lease: '0' }], 'someone');
    put('sim/overrides/web/a:1', 'not json');
    put(
      'sim/overrides/web/b:1',
      JSON.stringify({ state: 'maintenance', reason: 'r\u0007'.repeat(500), since: 'soon' }),
    );
    put('sim/overrides/web', '{"state":"maintenance"}');
    put(Buffer.from([...Buffer.from('sim/overrides/web/'), 0xff]), '{"state":"maintenance"}');
    await run(100);
    expect(states(list.latest)).toEqual(['a:1 serving', 'b:1 maintenance']);
    expect(list.latest?.[1]?.maintenance).toEqual({ reason: 'r\u0007'.repeat(100) }); // Cut, no date.
    expect(list.error).toBeUndefined();
    expect(logs.filter((line) => line.includes('malformed override'))).toHaveLength(3);
    await until(registry.close());
  });
});

describe("operators' overrides at their limit (on a simulated etcd)", () => {
  it('refuse one more than a service may hold before writing, apply none past it, and all again below', async () => {
    const world = simWorld();
    const registry = simRegistry(world);
    const { run, until, etcd, logs } = world;
    record(registry.register({ service: 'web', address: 'a:1' }));
    record(registry.register({ service: 'api', address: 'b:1' }));
    const web = record(registry.endpoints$('web'));
    const api = record(registry.endpoints$('api'));
    await run(100);
    await until(registry.setMaintenance('web', 'a:1', { reason: 'disk' }));
    const junk = Array.from({ length: OVERRIDE_LIMITS.perService - 1 }, (_, i) => ({
      key: `sim/overrides/web/10.9.${i >> 8}.${i & 255}:80`,
      value: '{"state":"maintenance","reason":"years ago"}',
      lease: '0',
    }));
    for (let i = 0; i < junk.length; i += 128) {
      etcd.putAll(junk.slice(i, i + 128), 'someone');
    }
    await run(100);
    expect(states(web.latest)).toEqual(['a:1 maintenance']);

    // One more for web would turn them all off: refused, nothing written.
    const refused = await until(
      registry.setMaintenance('web', '10.0.0.9:80').then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    expect(isPreconditionError(refused)).toBe(true);
    expect(refused).toHaveProperty(
      'message',
      expect.stringContaining('"web" holds 10000 overrides, the most gsr applies to one service'),
    );
    expect(etcd.get('sim/overrides/web/10.0.0.9:80')).toBeUndefined();
    // Another service's drain is not affected by web's.
    await until(registry.setMaintenance('api', 'b:1'));
    await run(100);
    expect(states(api.latest)).toEqual(['b:1 maintenance']);

    // Someone writes one more all the same: none of web's applies, said once.
    etcd.putAll([{ ...junk[0], key: 'sim/overrides/web/10.8.0.1:80' } as never], 'someone');
    await run(100);
    expect(states(web.latest)).toEqual(['a:1 serving']);
    expect(logs.filter((line) => line.includes('holds more than 10000 overrides'))).toHaveLength(1);
    // One cleared: all of them apply again, read anew.
    etcd.deleteKey('sim/overrides/web/10.8.0.1:80', undefined, 'someone');
    await run(100);
    expect(states(web.latest)).toEqual(['a:1 maintenance']);
    expect(states(api.latest)).toEqual(['b:1 maintenance']);
    await until(registry.close());
  });
});

describe('OverrideList', () => {
  const layout = new GsrKeyLayout('gsr/');
  const entry = (service: string, address: string, reason: string) => ({
    key: Buffer.from(`gsr/overrides/${service}/${address}`),
    value: Buffer.from(JSON.stringify({ state: 'maintenance', reason })),
  });

  it('holds what a model map holds, whatever the order of puts and deletes, and keeps unchanged services', () => {
    const op = fc.record({
      put: fc.boolean(),
      service: fc.constantFrom('web', 'api', 'db'),
      address: fc.constantFrom('a:1', 'b:1', 'c:1'),
      reason: fc.constantFrom('x', 'y'),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const list = new OverrideList(layout, new OnceLog(testLogger().logger));
        const model = new Map<string, string>();
        list.reset([]);
        for (const { put, service, address, reason } of ops) {
          const before = list.snapshot();
          const key = `${service}/${address}`;
          if (!put && !model.has(key)) {
            continue; // etcd sends no delete for a key it does not hold
          }
          const changed = list.apply([
            {
              type: put ? 'put' : 'delete',
              ...entry(service, address, reason),
              version: put ? (model.has(key) ? 2 : 1) : 0,
            },
          ]);
          // A key made or deleted changes the counts, whatever else.
          const expectedChange = put ? model.get(key) !== reason || !model.has(key) : true;
          if (put) model.set(key, reason);
          else model.delete(key);
          expect(changed).toBe(expectedChange);
          const after = list.snapshot();
          for (const [name, overrides] of before) {
            if (name !== service) expect(after.get(name)).toBe(overrides);
          }
        }
        const flat = new Map<string, string>();
        for (const [service, overrides] of list.snapshot()) {
          for (const [address, maintenance] of overrides)
            flat.set(`${service}/${address}`, maintenance.reason);
        }
        expect(flat).toEqual(model);
      }),
    );
  });

  it('applies, per service and in all, every override or none: never a subset that depends on order', () => {
    const limits = { perService: 2, total: 4 };
    const op = fc.record({
      put: fc.boolean(),
      service: fc.constantFrom('web', 'api', 'db'),
      address: fc.constantFrom('a:1', 'b:1', 'c:1', 'd:1'),
      junk: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const list = new OverrideList(layout, new OnceLog(testLogger().logger), limits);
        const held = new Map<string, string>(); // key -> reason, or '' for a malformed value
        list.reset([]);
        const check = (): void => {
          const total = held.size;
          const perService = (name: string) =>
            [...held.keys()].filter((key) => key.startsWith(`${name}/`)).length;
          const expected = new Map<string, string>();
          for (const [key, reason] of held) {
            const service = key.slice(0, key.indexOf('/'));
            if (reason !== '' && total <= 4 && perService(service) <= 2) {
              expected.set(key, reason);
            }
          }
          const flat = new Map<string, string>();
          for (const [service, overrides] of list.snapshot()) {
            for (const [address, maintenance] of overrides) {
              flat.set(`${service}/${address}`, maintenance.reason);
            }
          }
          expect(flat).toEqual(expected);
          expect(list.snapshot().total).toBe(total);
        };
        for (const { put, service, address, junk } of ops) {
          const key = `${service}/${address}`;
          if (!put && !held.has(key)) {
            continue;
          }
          const value = junk ? Buffer.from('junk') : entry(service, address, key).value;
          list.apply([
            {
              type: put ? 'put' : 'delete',
              key: entry(service, address, '').key,
              value,
              version: put ? (held.has(key) ? 2 : 1) : 0,
            },
          ]);
          if (put) held.set(key, junk ? '' : key);
          else held.delete(key);
          if (list.needsRead) {
            // What LiveList does: read the prefix again.
            list.reset(
              [...held].map(([k, reason]) => ({
                key: Buffer.from(`gsr/overrides/${k}`),
                value: reason === '' ? Buffer.from('junk') : entry('x', 'y:1', reason).value,
              })),
            );
            expect(list.needsRead).toBe(false);
          }
          check();
        }
      }),
    );
  });
});
