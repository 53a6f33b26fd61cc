import fc from 'fast-check';
import { EndpointList } from '../../lib/discovery/EndpointList';
import type { KeyChange } from '../../lib/discovery/PrefixUpdate';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import { OnceLog } from '../../lib/logging/OnceLog';
import { deleteOf, entry, putOf } from '../support/keyValues';
import { testLogger } from '../support/testLogger';

const layout = new GsrKeyLayout('gsr/');
const key = (address: string): string => layout.endpointKey({ service: 'web', address });
const put = (address: string, value = ''): KeyChange => putOf(key(address), value);
const draining = (address: string): KeyChange => put(address, '{"gsr.state":"draining"}');
const del = (address: string): KeyChange => deleteOf(key(address));
const shown = (list: readonly Endpoint[]): string[] =>
  list.map((e) => (e.state === undefined ? e.address : `${e.address} ${e.state}`));

/** A list with protection (threshold 0.5, kept 60 s) on a clock the test moves. */
function protectedList(threshold = 0.5) {
  const time = { now: 1_000_000 };
  const list = new EndpointList(
    'web',
    layout.servicePrefix('web'),
    layout,
    new OnceLog(testLogger().logger),
    { threshold, keepMs: 60_000, now: () => time.now },
  );
  return { list, time };
}

describe('EndpointList: unplanned departures', () => {
  it('keeps keys that expired as lost once the service falls below the threshold, all of them', () => {
    const { list } = protectedList();
    list.apply([put('a'), put('b'), put('c')]);
    // One of three gone: two of three left is not below half; it goes.
    expect(list.apply([del('a')])).toBe(true);
    expect(shown(list.snapshot())).toEqual(['b', 'c']);
    // Two of three gone: one left of three is below half; both come back as lost.
    list.apply([del('b')]);
    expect(shown(list.snapshot())).toEqual(['a lost', 'b lost', 'c']);
    list.apply([del('c')]);
    expect(shown(list.snapshot())).toEqual(['a lost', 'b lost', 'c lost']);
    expect(list.size).toBe(0);
    expect(list.entries()).toEqual([]); // Never written to disk as if etcd held them.
  });

  it('honours a planned departure at once: a key that said draining before it went', () => {
    const { list } = protectedList();
    list.apply([put('a'), put('b')]);
    list.apply([draining('a'), draining('b')]);
    list.apply([del('a'), del('b')]);
    expect(list.snapshot()).toEqual([]);
  });

  it('forgets what a service lost when one of its endpoints leaves as planned: emptied on purpose, empty', () => {
    const { list } = protectedList();
    list.apply([put('a'), put('b'), put('c')]);
    list.apply([del('a')]); // Killed: remembered, not listed (two of three left).
    list.apply([draining('b'), draining('c')]);
    list.apply([del('b')]); // A scale to zero, as planned.
    list.apply([del('c')]);
    expect(list.snapshot()).toEqual([]);

    const again = protectedList().list;
    again.apply([put('a'), put('b'), put('c')]);
    again.apply([del('a'), del('b')]);
    expect(shown(again.snapshot())).toEqual(['a lost', 'b lost', 'c']);
    again.apply([draining('c')]);
    again.apply([del('c')]);
    expect(again.snapshot()).toEqual([]);
  });

  it('keeps nothing of another store: a re-read of another cluster is not a departure', () => {
    const { list } = protectedList();
    list.reset([entry(key('a'), ''), entry(key('b'), '')]);
    list.apply([del('a'), del('b')]);
    expect(shown(list.snapshot())).toEqual(['a lost', 'b lost']);
    list.reset([entry(key('x'), '')], false);
    expect(shown(list.snapshot())).toEqual(['x']);
  });

  it('lets go of a lost one when its key is written again, when the service recovers, and after the keep', () => {
    const { list, time } = protectedList();
    list.apply([put('a'), put('b')]);
    list.apply([del('a'), del('b')]);
    expect(shown(list.snapshot())).toEqual(['a lost', 'b lost']);
    // a is back, listed as etcd holds it and no longer remembered; one of two is not below half.
    list.apply([put('a')]);
    expect(shown(list.snapshot())).toEqual(['a']);
    list.apply([put('c'), put('d')]); // Three of four: not below half.
    expect(shown(list.snapshot())).toEqual(['a', 'c', 'd']);
    list.apply([del('c'), del('d'), del('a')]);
    expect(shown(list.snapshot())).toEqual(['a lost', 'b lost', 'c lost', 'd lost']);
    expect(list.nextExpiry()).toBe(time.now + 60_000); // All went at this virtual time.
    time.now += 60_000;
    expect(list.expire()).toBe(true);
    expect(list.snapshot()).toEqual([]);
    expect(list.nextExpiry()).toBeUndefined();
  });

  it('judges keys a re-read no longer finds as departures, unless the list came from a snapshot', () => {
    const { list } = protectedList();
    list.reset([entry(key('a'), ''), entry(key('b'), '')]);
    expect(list.reset([])).toBe(true);
    expect(shown(list.snapshot())).toEqual(['a lost', 'b lost']);

    const fromDisk = protectedList().list;
    fromDisk.reset([entry(key('a'), ''), entry(key('b'), '')], false);
    fromDisk.reset([], false); // etcd's first answer replaces the snapshot
    expect(fromDisk.snapshot()).toEqual([]);
  });

  it('keeps nothing with a threshold of 0 (off)', () => {
    const { list } = protectedList(0);
    list.apply([put('a')]);
    list.apply([del('a')]);
    expect(list.snapshot()).toEqual([]);
    expect(list.nextExpiry()).toBeUndefined();
  });

  it('holds its invariants over any order of puts, drains, deletes, re-reads and time', () => {
    const addresses = ['a', 'b', 'c', 'd'];
    const op = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), address: fc.constantFrom(...addresses) }),
      fc.record({ kind: fc.constant('drain' as const), address: fc.constantFrom(...addresses) }),
      fc.record({ kind: fc.constant('del' as const), address: fc.constantFrom(...addresses) }),
      fc.record({ kind: fc.constant('reread' as const) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 70_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const { list, time } = protectedList();
        const etcd = new Map<string, string>(); // What etcd holds: address to value.
        for (const step of ops) {
          if (step.kind === 'put' || step.kind === 'drain') {
            const value = step.kind === 'put' ? '' : '{"gsr.state":"draining"}';
            etcd.set(step.address, value);
            list.apply([put(step.address, value)]);
          } else if (step.kind === 'del') {
            const was = etcd.get(step.address);
            if (etcd.delete(step.address)) {
              list.apply([del(step.address)]);
              if (was !== '') {
                // A planned departure: nothing kept, of it or of what went before.
                expect(list.snapshot().filter((e) => e.state === 'lost')).toEqual([]);
              }
            }
          } else if (step.kind === 'reread') {
            list.reset([...etcd].map(([address, value]) => entry(key(address), value)));
          } else {
            time.now += step.ms;
            list.expire();
          }
          const value = list.snapshot();
          // What etcd holds is listed as etcd holds it; anything else is marked lost.
          const live = value.filter((e) => e.state !== 'lost').map((e) => e.address);
          expect(live).toEqual([...etcd.keys()].sort());
          expect(list.size).toBe(etcd.size);
          const lost = value.filter((e) => e.state === 'lost');
          // Lost ones only below the threshold, and never longer than the keep (the next expiry).
          if (lost.length > 0) {
            expect(etcd.size).toBeLessThan(0.5 * (etcd.size + lost.length) + 1e-9);
            expect(list.nextExpiry()).toBeGreaterThan(time.now);
          }
          expect(value.map((e) => e.address)).toEqual([...value.map((e) => e.address)].sort());
        }
      }),
    );
  });
});
