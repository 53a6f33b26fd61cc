import { type Chooser, createChooser } from '../../lib/balancing/createChooser';
import { EndpointRecord } from '../../lib/balancing/EndpointRecord';
import { WeightedSet } from '../../lib/balancing/WeightedSet';
import type { Endpoint } from '../../lib/endpoint/Endpoint';

const latency = { decayMs: 10_000, defaultMs: 5 };
/** A record with `weight` as picks use it (the balancer divides declared weights by the largest). */
const record = (address: string, weight = 1) =>
  Object.assign(new EndpointRecord({ service: 'web', address }, weight), { weight });
/** A seeded generator, so that random picks are the same on every run. */
function seeded(seed = 7): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}
function counts(pick: () => EndpointRecord, times: number): Record<string, number> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const { address } = pick().endpoint;
    seen[address] = (seen[address] ?? 0) + 1;
  }
  return seen;
}

/** Runs a chooser on `records` as a balancer does: a candidate set, every record acceptable. */
function on<T>(choose: Chooser<T>, records: readonly EndpointRecord[], value: T, now: number) {
  const set = sets.get(records.map((r) => r.endpoint.address).join()) ?? new WeightedSet();
  sets.set(records.map((r) => r.endpoint.address).join(), set);
  records.forEach((r) => set.add(r));
  const chosen = choose(
    set,
    value,
    now,
    () => true,
    () => records,
  );
  if (chosen === undefined) throw new Error('nothing chosen');
  return chosen;
}
/** One set per list of records, kept across picks as a balancer keeps it (round-robin's turns). */
const sets = new Map<string, WeightedSet>();

describe('createChooser', () => {
  const [a, b, c] = [record('a'), record('b'), record('c')];

  it('round-robin: 30 picks over three endpoints go 10/10/10', () => {
    const choose = createChooser('round-robin', latency);
    expect(counts(() => on(choose, [a, b, c], undefined, 0), 30)).toEqual({ a: 10, b: 10, c: 10 });
  });

  it('round-robin by weight, smoothly: 2:1 gives a, b, a, a, b, a', () => {
    const choose = createChooser('round-robin', latency);
    const heavy = record('heavy', 2);
    const light = record('light', 1);
    const order = Array.from(
      { length: 6 },
      () => on(choose, [heavy, light], undefined, 0).endpoint.address,
    );
    expect(order).toEqual(['heavy', 'light', 'heavy', 'heavy', 'light', 'heavy']);
  });

  it('random, in proportion to weight', () => {
    const choose = createChooser('random', latency, seeded());
    const seen = counts(() => on(choose, [record('x', 3), record('y', 1)], undefined, 0), 4000);
    expect((seen.x ?? 0) / 4000).toBeGreaterThan(0.7);
    expect((seen.x ?? 0) / 4000).toBeLessThan(0.8);
  });

  it('least-outstanding: the better of two by calls in flight', () => {
    const choose = createChooser('least-outstanding', latency, seeded());
    const busy = record('busy');
    const idle = record('idle');
    busy.started();
    busy.started();
    expect(counts(() => on(choose, [busy, idle], undefined, 0), 100)).toEqual({ idle: 100 });
  });

  it('latency: the better of two by peak-EWMA times calls in flight', () => {
    const choose = createChooser('latency', latency, seeded());
    const slow = record('slow');
    const fast = record('fast');
    slow.succeeded({ now: 0, latencyMs: 100, inFlight: false }, latency);
    fast.succeeded({ now: 0, latencyMs: 2, inFlight: false }, latency);
    expect(counts(() => on(choose, [slow, fast], undefined, 0), 100)).toEqual({ fast: 100 });
    // Not measured yet: as fast as the one it is compared with, so a new endpoint gets its trials.
    const unmeasured = record('new');
    const seen = counts(() => on(choose, [fast, unmeasured], undefined, 0), 200);
    expect(seen.new).toBeGreaterThan(60);
    expect(seen.fast).toBeGreaterThan(60);
    unmeasured.succeeded({ now: 0, latencyMs: 100, inFlight: false }, latency);
    expect(counts(() => on(choose, [fast, unmeasured], undefined, 0), 100)).toEqual({ fast: 100 });
  });

  it('a picker of your own, which must choose from its list', () => {
    const byValue = createChooser<number>(
      (endpoints, value) => endpoints[value % endpoints.length] as Endpoint,
      latency,
    );
    expect(on(byValue, [a, b, c], 4, 0)).toBe(b);
    const stray = createChooser(() => ({ service: 'web', address: 'elsewhere' }), latency);
    expect(() => on(stray, [a], undefined, 0)).toThrow('not in the list');
  });

  it('refuses a strategy it does not know, naming it', () => {
    expect(() => createChooser('fastest' as never, latency)).toThrow(
      "Expected `strategy` to be one of 'round-robin', 'random', 'least-outstanding', 'latency', 'weighted-round-robin' or a function, got `fastest` (string)",
    );
  });
});
