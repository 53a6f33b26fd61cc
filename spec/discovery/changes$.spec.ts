import fc from 'fast-check';
import type { EndpointChanges } from '../../lib/discovery/EndpointChanges';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { endpointState } from '../../lib/endpoint/EndpointState';
import { simRegistry, simWorld } from '../sim/simWorld';
import { record } from '../support/observe';

/** Folds changes into a map by address, as a consumer of changes$ keeps its state. */
function fold(all: readonly EndpointChanges[]): string[] {
  const state = new Map<string, Endpoint>();
  for (const { added, removed, updated } of all) {
    removed.forEach((e) => state.delete(e.address));
    [...added, ...updated].forEach((e) => state.set(e.address, e));
  }
  return [...state.values()]
    .map((e) => `${e.address} ${endpointState(e)} ${JSON.stringify(e.metadata ?? null)}`)
    .sort();
}
const shown = (list: readonly Endpoint[] | undefined) =>
  (list ?? []).map((e) => `${e.address} ${endpointState(e)} ${JSON.stringify(e.metadata ?? null)}`);

describe('registry.changes$ (on a simulated etcd)', () => {
  it('folds into the same list endpoints$ gives, through any puts, deletes and overrides', async () => {
    const op = fc.record({
      kind: fc.constantFrom('put', 'delete', 'maintain', 'clear'),
      address: fc.constantFrom('a:1', 'b:1', 'c:1', 'd:1'),
      value: fc.constantFrom('', '{"v":1}', '{"gsr.state":"draining"}'),
      lateSubscriber: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const world = simWorld();
        const registry = simRegistry(world);
        const changes = record(registry.changes$('web'));
        const lists = record(registry.endpoints$('web'));
        let late: ReturnType<typeof record<EndpointChanges>> | undefined;
        await world.run(50);
        for (const { kind, address, value, lateSubscriber } of ops) {
          const key = `sim/services/web/${address}`;
          const override = `sim/overrides/web/${address}`;
          if (kind === 'put') world.etcd.putAll([{ key, value, lease: '0' }], 'someone');
          if (kind === 'delete') world.etcd.deleteKey(key, undefined, 'someone');
          if (kind === 'maintain') {
            world.etcd.putAll(
              [{ key: override, value: '{"state":"maintenance","reason":"r"}', lease: '0' }],
              'operator',
            );
          }
          if (kind === 'clear') world.etcd.deleteKey(override, undefined, 'operator');
          await world.run(20);
          if (lateSubscriber && late === undefined) late = record(registry.changes$('web'));
        }
        await world.run(50);
        expect(fold(changes.values)).toEqual(shown(lists.latest));
        if (late !== undefined) expect(fold(late.values)).toEqual(shown(lists.latest));
        expect(changes.values[0]?.removed).toEqual([]);
        await world.until(registry.close());
      }),
      { numRuns: 40 },
    );
  });

  it('says the revision, and completes when the registry closes', async () => {
    const world = simWorld();
    const registry = simRegistry(world);
    const changes = record(registry.changes$('web'));
    await world.run(50);
    world.etcd.putAll([{ key: 'sim/services/web/a:1', value: '', lease: '0' }], 'someone');
    await world.run(50);
    expect(changes.values.map((c) => c.added.map((e) => e.address))).toEqual([[], ['a:1']]);
    expect(typeof changes.latest?.revision).toBe('bigint');
    await world.until(registry.close());
    expect(changes.completed).toBe(true);
  });
});
