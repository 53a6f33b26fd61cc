import { EndpointList } from '../../lib/discovery/EndpointList';
import type { KeyChange } from '../../lib/discovery/PrefixUpdate';
import fc from 'fast-check';
import { EtcdNamingKeyLayout } from '../../lib/keys/EtcdNamingKeyLayout';
import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import { OnceLog } from '../../lib/logging/OnceLog';
import { deleteOf, entry, putOf } from '../support/keyValues';
import { testLogger } from '../support/testLogger';

const layout = new GsrKeyLayout('gsr/');
const key = (address: string): string => layout.endpointKey({ service: 'web', address });
const put = (address: string, value = ''): KeyChange => putOf(key(address), value);
const del = (address: string): KeyChange => deleteOf(key(address));

function list() {
  const { logger, lines } = testLogger();
  return {
    list: new EndpointList('web', layout.servicePrefix('web'), layout, new OnceLog(logger)),
    lines,
  };
}

describe('EndpointList', () => {
  it('starts empty', () => {
    expect(list().list.snapshot()).toEqual([]);
  });

  it('reads a snapshot sorted by address, with metadata when the value is JSON', () => {
    const { list: endpoints } = list();
    expect(
      endpoints.reset([entry(key('10.0.0.2:80'), ''), entry(key('10.0.0.1:80'), '{"zone":"a"}')]),
    ).toBe(true);
    expect(endpoints.snapshot()).toEqual([
      { service: 'web', address: '10.0.0.1:80', metadata: { zone: 'a' } },
      { service: 'web', address: '10.0.0.2:80' },
    ]);
  });

  it('hands out one frozen array per change', () => {
    const { list: endpoints } = list();
    endpoints.apply([put('a')]);
    const first = endpoints.snapshot();
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(endpoints.snapshot()).toBe(first);
    endpoints.apply([put('b')]);
    expect(endpoints.snapshot()).not.toBe(first);
    expect(first).toEqual([{ service: 'web', address: 'a' }]);
  });

  it('inserts and removes in order', () => {
    const { list: endpoints } = list();
    expect(endpoints.apply([put('m'), put('a'), put('z'), put('c')])).toBe(true);
    expect(endpoints.snapshot().map((e) => e.address)).toEqual(['a', 'c', 'm', 'z']);
    expect(endpoints.apply([del('c'), del('z')])).toBe(true);
    expect(endpoints.snapshot().map((e) => e.address)).toEqual(['a', 'm']);
  });

  it('does not count a rewrite of the same value as a change', () => {
    const { list: endpoints } = list();
    endpoints.apply([put('a', '{"x":1,"y":2}')]);
    expect(endpoints.apply([put('a', '{"x":1,"y":2}')])).toBe(false);
    expect(endpoints.apply([put('a', '{"y":2,"x":1}')])).toBe(false);
    expect(endpoints.apply([put('a', '{"x":3}')])).toBe(true);
    expect(endpoints.snapshot()[0]?.metadata).toEqual({ x: 3 });
  });

  it('ignores the deletion of an unknown or malformed key', () => {
    const { list: endpoints } = list();
    endpoints.apply([put('a')]);
    expect(endpoints.apply([del('b')])).toBe(false);
    expect(endpoints.apply([deleteOf('gsr/services/web/x/y')])).toBe(false);
  });

  it('skips a malformed key and logs it, never throws', () => {
    const { list: endpoints, lines } = list();
    expect(endpoints.apply([putOf('gsr/services/web/x/y')])).toBe(false);
    expect(endpoints.snapshot()).toEqual([]);
    expect(lines).toEqual([
      expect.stringContaining('skipping malformed key "gsr/services/web/x/y"'),
    ]);
  });

  it('keeps an endpoint whose value is not JSON, without metadata, and logs it', () => {
    const { list: endpoints, lines } = list();
    endpoints.apply([put('a', 'garbage'), put('b', '[1]')]);
    expect(endpoints.snapshot()).toEqual([
      { service: 'web', address: 'a' },
      { service: 'web', address: 'b' },
    ]);
    expect(lines).toEqual([
      expect.stringContaining('ignoring the metadata of gsr/services/web/a: the value is not JSON'),
      expect.stringContaining('ignoring the metadata of gsr/services/web/b'),
    ]);
  });

  it('reports no change, and keeps its array, when a new snapshot equals the list', () => {
    const { list: endpoints } = list();
    endpoints.apply([put('a'), put('b', '{"z":1}')]);
    const before = endpoints.snapshot();
    expect(endpoints.reset([entry(key('b'), '{"z":1}'), entry(key('a'), '')])).toBe(false);
    expect(endpoints.snapshot()).toBe(before);
    expect(endpoints.reset([entry(key('a'), '')])).toBe(true);
    expect(endpoints.snapshot().map((e) => e.address)).toEqual(['a']);
  });

  it('agrees with a sorted map after any sequence of changes', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const { list: endpoints } = list();
    const model = new Map<string, string>();
    for (let round = 0; round < 300; round++) {
      const batch: KeyChange[] = [];
      for (let i = 0; i < 1 + random(5); i++) {
        const address = `10.0.${random(8)}.${random(30)}:80`;
        if (random(3) === 0) {
          batch.push(del(address));
          model.delete(address);
        } else {
          const value = random(2) === 0 ? '' : `{"w":${random(3)}}`;
          batch.push(put(address, value));
          model.set(address, value);
        }
      }
      endpoints.apply(batch);
      const expected = [...model.keys()].sort();
      expect(endpoints.snapshot().map((e) => e.address)).toEqual(expected);
      expect(endpoints.size).toBe(model.size);
    }
  });
});

describe("EndpointList under etcd's naming layout", () => {
  const naming = new EtcdNamingKeyLayout('', 'string');
  const prefix = naming.servicePrefix('greeter');
  const value = (address: string, v = 0) =>
    JSON.stringify({ Op: 0, Addr: address, Metadata: JSON.stringify({ v }) });
  const fresh = () => {
    const { logger } = testLogger();
    return new EndpointList('greeter', prefix, naming, new OnceLog(logger));
  };

  it('lists an address held by two keys once, sorted by address, as the key named after it holds it', () => {
    const endpoints = fresh();
    endpoints.reset([
      entry(`${prefix}z-id`, value('10.0.0.1:80', 1)),
      entry(`${prefix}10.0.0.1:80`, value('10.0.0.1:80', 2)),
      entry(`${prefix}a-id`, value('10.0.0.9:80', 3)),
    ]);
    expect(endpoints.snapshot()).toEqual([
      { service: 'greeter', address: '10.0.0.1:80', metadata: { v: 2 } },
      { service: 'greeter', address: '10.0.0.9:80', metadata: { v: 3 } },
    ]);
    // When the key named after it goes, the lowest other key holding it stands in.
    expect(endpoints.apply([deleteOf(`${prefix}10.0.0.1:80`)])).toBe(true);
    expect(endpoints.snapshot()[0]).toEqual({
      service: 'greeter',
      address: '10.0.0.1:80',
      metadata: { v: 1 },
    });
    expect(endpoints.apply([deleteOf(`${prefix}z-id`)])).toBe(true);
    expect(endpoints.snapshot().map((e) => e.address)).toEqual(['10.0.0.9:80']);
  });

  it('agrees with a fresh read of the same keys, whatever the order of the changes', () => {
    const ids = ['a', 'b', '10.0.0.1:80', '10.0.0.2:80', 'z'];
    const addresses = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'];
    const change = fc.record({
      id: fc.constantFrom(...ids),
      address: fc.option(fc.constantFrom(...addresses), { nil: undefined }),
      v: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(change, { minLength: 1, maxLength: 4 }), { maxLength: 30 }),
        (batches) => {
          const incremental = fresh();
          incremental.reset([]);
          const model = new Map<string, string>();
          for (const batch of batches) {
            incremental.apply(
              batch.map(({ id, address, v }) => {
                if (address === undefined) {
                  model.delete(id);
                  return deleteOf(`${prefix}${id}`);
                }
                model.set(id, value(address, v));
                return putOf(`${prefix}${id}`, value(address, v));
              }),
            );
          }
          const read = fresh();
          read.reset([...model].sort().map(([id, text]) => entry(`${prefix}${id}`, text)));
          const listed = incremental.snapshot();
          expect(listed).toEqual(read.snapshot());
          const shown = listed.map((e) => e.address);
          expect(shown).toEqual([...new Set(shown)].sort());
        },
      ),
    );
  });
});
