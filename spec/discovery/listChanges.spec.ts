import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { changes } from '../../lib/discovery/changes';
import { EndpointList } from '../../lib/discovery/EndpointList';
import { changesBetween } from '../../lib/discovery/listChanges';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import { OnceLog } from '../../lib/logging/OnceLog';
import { deleteOf, entry, putOf } from '../support/keyValues';
import { testLogger } from '../support/testLogger';

const layout = new GsrKeyLayout('gsr/');
const key = (address: string): string => layout.endpointKey({ service: 'web', address });

/** What changed, by address, the slow way: for comparison. */
function naive(before: readonly Endpoint[], after: readonly Endpoint[]) {
  const old = new Map(before.map((e) => [e.address, JSON.stringify(e)]));
  const now = new Map(after.map((e) => [e.address, JSON.stringify(e)]));
  return {
    added: [...now.keys()].filter((a) => !old.has(a)).sort(),
    removed: [...old.keys()].filter((a) => !now.has(a)).sort(),
    updated: [...now.keys()].filter((a) => old.has(a) && old.get(a) !== now.get(a)).sort(),
  };
}
const addresses = (list: readonly Endpoint[]) => list.map((e) => e.address).sort();

describe('what changed between two lists', () => {
  it('is recorded by the list as etcd events arrive, and equals a comparison, through any events', () => {
    const event = fc.record({
      put: fc.boolean(),
      address: fc.constantFrom('a:1', 'b:1', 'c:1', 'd:1', 'e:1'),
      value: fc.constantFrom('', '{"v":1}', '{"gsr.state":"draining"}'),
      snapshotAfter: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 50 }), fc.boolean(), (events, reset) => {
        const list = new EndpointList(
          'web',
          layout.servicePrefix('web'),
          layout,
          new OnceLog(testLogger().logger),
        );
        list.reset(reset ? [entry(key('a:1'), '')] : []);
        let previous = list.snapshot(1n);
        let revision = 1n;
        for (const { put, address, value, snapshotAfter } of events) {
          list.apply([put ? putOf(key(address), value) : deleteOf(key(address))]);
          if (snapshotAfter) {
            revision += 1n;
            const next = list.snapshot(revision);
            const changed = changesBetween(previous, next);
            const expected = naive(previous, next);
            expect({
              added: addresses(changed.added),
              removed: addresses(changed.removed),
              updated: addresses(changed.updated),
            }).toEqual(expected);
            expect(changed.revision).toBe(next === previous ? changed.revision : revision);
            previous = next;
          }
        }
      }),
    );
  });

  it('as an operator: everything added first, then each change; any list of lists works', async () => {
    const a = { service: 'web', address: 'a:1' };
    const b = { service: 'web', address: 'b:1' };
    const b2 = { ...b, metadata: { v: 2 } };
    const seen = await lastValueFrom(from([[a], [a, b], [b2], []]).pipe(changes(), toArray()));
    expect(
      seen.map(({ added, removed, updated }) => [
        addresses(added),
        addresses(removed),
        addresses(updated),
      ]),
    ).toEqual([
      [['a:1'], [], []],
      [['b:1'], [], []],
      [[], ['a:1'], ['b:1']],
      [[], ['b:1'], []],
    ]);
  });
});
