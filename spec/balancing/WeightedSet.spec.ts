import fc from 'fast-check';
import { EndpointRecord } from '../../lib/balancing/EndpointRecord';
import { WeightedSet } from '../../lib/balancing/WeightedSet';

const record = (address: string, weight: number) =>
  Object.assign(new EndpointRecord({ service: 'web', address }, weight), { weight });

describe('WeightedSet', () => {
  it('draws each record in proportion to its weight from its tree, through any sequence of adds, deletes and reweighs', () => {
    const op = fc.record({
      kind: fc.constantFrom('add', 'delete', 'reweigh'),
      address: fc.integer({ min: 0, max: 40 }),
      weight: fc.constantFrom(0.25, 0.5, 1, 3),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const set = new WeightedSet();
        const records = new Map<number, EndpointRecord>();
        // Nine weights more than the few a draw takes by class: the tree answers every draw here.
        for (let i = 0; i < 9; i++) {
          const anchor = record(`anchor${i}`, 10 + i);
          records.set(100 + i, anchor);
          set.add(anchor);
        }
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

  it('draws by weight class while there are few weights: each record as often as its weight says', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0.5, 1, 2, 5), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 2 ** 30 }),
        (weights, seed) => {
          const set = new WeightedSet();
          const records = weights.map((weight, i) => record(`r${i}`, weight));
          records.forEach((r) => set.add(r));
          set.delete(records[0] as EndpointRecord); // A class's records move when one leaves.
          set.add(records[0] as EndpointRecord);
          // mulberry32: a seeded generator good enough for frequencies.
          let state = seed;
          const random = () => {
            state = (state + 0x6d2b79f5) | 0;
            let t = Math.imul(state ^ (state >>> 15), 1 | state);
            t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
            return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
          };
          const draws = 20_000;
          const counts = new Map<EndpointRecord, number>();
          for (let i = 0; i < draws; i++) {
            const drawn = set.sample(random) as EndpointRecord;
            counts.set(drawn, (counts.get(drawn) ?? 0) + 1);
          }
          const total = weights.reduce((sum, w) => sum + w, 0);
          for (const r of records) {
            const p = r.weight / total;
            const expected = draws * p;
            const sigma = Math.sqrt(draws * p * (1 - p));
            expect(Math.abs((counts.get(r) ?? 0) - expected)).toBeLessThanOrEqual(5 * sigma + 1);
          }
        },
      ),
      { numRuns: 30 },
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
