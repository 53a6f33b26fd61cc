import { StrategyError } from '../errors/StrategyError';
import type { EndpointRecord, LatencyPolicy } from './EndpointRecord';
import type { WeightedSet } from './WeightedSet';
import { unknownStrategy } from './BalancerOptions';
import type { Strategy } from './Strategy';
import { DEFAULT_WRR, type WrrPolicy } from './LoadWeight';
import { wrrChooser } from './wrrChooser';

/**
 * Picks, from a candidate set, a record that `ok` accepts (not ejected, not tried by this call), for
 * `value` at time `now`; `undefined` when it finds none. `endpoints` lists the set's records in list
 * order, for a user's {@link Picker} (built only when one asks). @internal
 */
export type Chooser<T> = (
  set: WeightedSet,
  value: T,
  now: number,
  ok: (record: EndpointRecord) => boolean,
  inListOrder: () => readonly EndpointRecord[],
) => EndpointRecord | undefined;

/** Draws before a chooser gives up sampling and scans the set: a pick skips few ejected records. */
const DRAWS = 8;

/**
 * A chooser for `strategy`, with state of its own (round-robin's turns live in the set), so that every
 * balancer takes its own turns. Every built-in one picks in O(log n) whatever the weights (O(1) while
 * they are equal): a draw that `ok` refuses is drawn again, a few times, before the set is scanned. A
 * picker of the user's that throws, or chooses from outside its list, makes it throw a
 * {@link StrategyError}.
 *
 * @throws TypeError for a strategy that is none of the above.
 * @internal
 */
export function createChooser<T>(
  strategy: Strategy<T> = 'round-robin',
  latency: LatencyPolicy,
  random: () => number = Math.random,
  wrr: WrrPolicy = DEFAULT_WRR,
): Chooser<T> {
  if (typeof strategy === 'function') {
    return (_set, value, _now, ok, inListOrder) => {
      const records = inListOrder().filter(ok);
      if (records.length === 0) {
        return undefined;
      }
      let chosen: unknown;
      try {
        chosen = strategy(
          records.map((record) => record.endpoint),
          value,
        );
      } catch (error) {
        throw new StrategyError('threw', error);
      }
      const record = records.find((candidate) => candidate.endpoint === chosen);
      if (record === undefined) {
        throw new StrategyError('returned an endpoint that is not in the list');
      }
      return record;
    };
  }
  switch (strategy) {
    case 'round-robin':
      return (set, _value, _now, ok) => draw(set, ok, () => set.turn(), random);
    case 'random':
      return (set, _value, _now, ok) => draw(set, ok, () => set.sample(random), random);
    case 'least-outstanding':
      return byLoad(random, (record) => record.inFlight + 1);
    case 'latency': {
      // Latencies made unit-free for the weighted path: relative to a running mean of those seen.
      let typicalMs: number | undefined;
      return byLoad(random, (record, now, other) => {
        // An endpoint not measured yet is taken to be as fast as the one it is compared with, so that
        // a new endpoint gets its share of trials (calls in flight still keep a burst off it).
        const rtt =
          record.latency(now, latency) ?? other.latency(now, latency) ?? latency.defaultMs;
        typicalMs = typicalMs === undefined ? rtt : typicalMs * 0.9 + rtt * 0.1;
        return (rtt / Math.max(typicalMs, Number.MIN_VALUE)) * (record.inFlight + 1);
      });
    }
    case 'weighted-round-robin':
      return wrrChooser(wrr, random);
    default:
      throw unknownStrategy(strategy);
  }
}

/**
 * The first of a few draws that `ok` accepts; when none is (many records ejected or tried), one of the
 * accepted records by weight, found by a scan.
 */
function draw(
  set: WeightedSet,
  ok: (record: EndpointRecord) => boolean,
  next: () => EndpointRecord | undefined,
  random: () => number,
): EndpointRecord | undefined {
  for (let i = 0; i < DRAWS; i++) {
    const record = next();
    if (record === undefined || ok(record)) {
      return record;
    }
  }
  const accepted = set.records().filter(ok);
  return accepted.length === 0 ? undefined : byWeight(accepted, random);
}

/** One of `records` at random, in proportion to its weight (a linear scan: the rare path). */
function byWeight(records: readonly EndpointRecord[], random: () => number): EndpointRecord {
  const total = records.reduce((sum, record) => sum + record.weight, 0);
  let point = random() * total;
  for (const record of records) {
    point -= record.weight;
    if (point < 0) {
      return record;
    }
  }
  return records[records.length - 1] as EndpointRecord;
}

/**
 * How much less (or more) often than its weight says a record may be picked for its load, at most: a
 * record whose load soars (one very slow call) is picked less, never put off for good.
 */
const MAX_LOAD_FACTOR = 100;

/**
 * Picks by `load` (unit-free, about 1 for a typical record at rest): with equal weights, the power of
 * two choices (two records at random, the less loaded); with unequal weights, Envoy's weighted least request, a weighted round robin
 * (earliest deadline first) in which a record's weight is divided by its load when it is picked. So
 * calls one at a time are spread exactly by weight (1, 1 and 1.7 share 27/27/46 %), and load moves
 * them: comparing load divided by weight in two choices would send nearly all of them to the heaviest.
 */
function byLoad<T>(
  random: () => number,
  load: (record: EndpointRecord, now: number, other: EndpointRecord) => number,
): Chooser<T> {
  const twoChoices = powerOfTwo<T>(random, load);
  return (set, value, now, ok, inListOrder) => {
    if (set.uniform) {
      return twoChoices(set, value, now, ok, inListOrder);
    }
    const weightNow = (record: EndpointRecord): number =>
      record.weight /
      Math.min(MAX_LOAD_FACTOR, Math.max(1 / MAX_LOAD_FACTOR, load(record, now, record)));
    return draw(set, ok, () => set.turn(weightNow), random);
  };
}

/** The power of two choices: two records drawn by weight, the cheaper of them. */
function powerOfTwo<T>(
  random: () => number,
  cost: (record: EndpointRecord, now: number, other: EndpointRecord) => number,
): Chooser<T> {
  return (set, _value, now, ok) => {
    const a = draw(set, ok, () => set.sample(random), random);
    if (a === undefined) {
      return undefined;
    }
    let b: EndpointRecord | undefined;
    for (let i = 0; i < DRAWS && (b === undefined || b === a); i++) {
      const drawn = set.sample(random);
      b = drawn !== undefined && ok(drawn) ? drawn : undefined;
    }
    if (b === undefined || b === a) {
      // Draws kept landing on `a` (a small set) or on records `ok` refuses: scan for another.
      const others = set.records().filter((record) => record !== a && ok(record));
      if (others.length === 0) {
        return a;
      }
      b = byWeight(others, random);
    }
    const costA = cost(a, now, b);
    const costB = cost(b, now, a);
    return costA < costB ? a : costB < costA ? b : random() < 0.5 ? a : b;
  };
}
