import fc from 'fast-check';
import { EndpointRecord } from '../../lib/balancing/EndpointRecord';
import { WeightedSet } from '../../lib/balancing/WeightedSet';

const record = (address: string, weight: number) =>
  Object.assign(new EndpointRecord({ service: 'web', address }, weight), { weight });

describe('WeightedSet', () => {
  it('draws each record in proportion to its weight, through any sequence of adds, deletes and reweighs', () => {
    const op = fc.record({
      kind: fc.constantFrom('add', 'delete', 'reweigh'),
      address: fc.integer({ min: 0, max: 40 }),
      weight: fc.constantFrom(0.25, 0.5, 1, 3),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const set = new WeightedSet();
        const records = new Map<number, EndpointRecord>();
        for (const { kind, address, weight } of ops) {
          const existing = records.get(address);
          if (kind === 'add' && existing === undefined) {
            const created = record(`a${address}`, weight);
            records.set(address, created);
            set.add(created);
          } else if (kind === 'delete' && existing !== undefined) {
            records.delete(address);
            set.delete(existing);
          } else if (kind === 'reweigh' && existing !== undefined) {
            existing.weight = weight;
            set.reweigh(existing);
          }
        }
        expect(set.size).toBe(records.size);
        // Each record owns the stretch of [0, total) its weight says, in slot order: its midpoint
        // draws it.
        const slots = set.records();
        expect(new Set(slots)).toEqual(new Set(records.values()));
        const total = slots.reduce((sum, r) => sum + r.weight, 0);
        let before = 0;
        for (const r of slots) {
          const point = (before + r.weight / 2) / total;
          expect(set.sample(() => point)).toBe(r);
          before += r.weight;
        }
      }),
    );
  });

  it('takes turns by weight: over a cycle each record gets its share, and 2:1 goes a, b, a, a, b, a', () => {
    const set = new WeightedSet();
    const [a, b, c] = [record('a', 3), record('b', 2), record('c', 1)];
    [a, b, c].forEach((r) => set.add(r));
    const counts = new Map<EndpointRecord, number>();
    for (let i = 0; i < 600; i++) {
      const r = set.turn() as EndpointRecord;
      counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    expect([a, b, c].map((r) => counts.get(r))).toEqual([300, 200, 100]);

    const pair = new WeightedSet();
    const [heavy, light] = [record('heavy', 2), record('light', 1)];
    pair.add(heavy);
    pair.add(light);
    expect(Array.from({ length: 6 }, () => pair.turn()?.endpoint.address)).toEqual([
      'heavy',
      'light',
      'heavy',
      'heavy',
      'light',
      'heavy',
    ]);
  });

  it('rotates in O(1) while every weight is the same, and a newcomer waits its turn rather than bursting', () => {
    const set = new WeightedSet();
    const records = ['a', 'b', 'c'].map((address) => record(address, 1));
    records.forEach((r) => set.add(r));
    expect(Array.from({ length: 6 }, () => set.turn()?.endpoint.address)).toEqual([
      'a',
      'b',
      'c',
      'a',
      'b',
      'c',
    ]);
    const heavy = record('d', 2);
    set.add(heavy);
    const next = Array.from({ length: 10 }, () => set.turn()?.endpoint.address);
    expect(next.filter((address) => address === 'd')).toHaveLength(4); // 2 of every 5.
  });

  it('is empty when emptied, and draws nothing', () => {
    const set = new WeightedSet();
    const r = record('a', 1);
    set.add(r);
    set.delete(r);
    expect(set.size).toBe(0);
    expect(set.sample(Math.random)).toBeUndefined();
    expect(set.turn()).toBeUndefined();
  });
});
