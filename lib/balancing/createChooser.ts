import { StrategyError } from '../errors/StrategyError';
import type { EndpointRecord, LatencyPolicy } from './EndpointRecord';
import type { Strategy } from './Strategy';

/** Picks one of a non-empty list of records for `value`, at time `now`. @internal */
export type Chooser<T> = (
  records: readonly EndpointRecord[],
  value: T,
  now: number,
) => EndpointRecord;

const STRATEGIES = ['round-robin', 'random', 'least-outstanding', 'latency'];

/**
 * A chooser for `strategy`, with state of its own (round-robin's turns), so that every balancer or
 * subscription takes its own turns. A picker of the user's that throws, or chooses from outside its
 * list, makes it throw a {@link StrategyError}.
 *
 * @throws TypeError for a strategy that is none of the above.
 * @internal
 */
export function createChooser<T>(
  strategy: Strategy<T> = 'round-robin',
  latency: LatencyPolicy,
  random: () => number = Math.random,
): Chooser<T> {
  if (typeof strategy === 'function') {
    return (records, value) => {
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
      return smoothRoundRobin();
    case 'random':
      return (records) => weightedRandom(records, random);
    case 'least-outstanding':
      return powerOfTwo(random, (record) => (record.inFlight + 1) / record.weight);
    case 'latency':
      return powerOfTwo(random, (record, now, other) => {
        // An endpoint not measured yet is taken to be as fast as the one it is compared with, so that
        // a new endpoint gets its share of trials (calls in flight still keep a burst off it).
        const rtt =
          record.latency(now, latency) ?? other.latency(now, latency) ?? latency.defaultMs;
        return (rtt * (record.inFlight + 1)) / record.weight;
      });
    default:
      throw new TypeError(
        `Expected \`strategy\` to be one of ${STRATEGIES.map((s) => `'${s}'`).join(', ')} or a function, got \`${String(strategy)}\` (${typeof strategy})`,
      );
  }
}

/**
 * nginx's smooth weighted round-robin: each pick adds every endpoint's weight to its credit and takes
 * the one with the most, which then pays the total. Equal weights give plain turns; weights 2:1 give
 * a, b, a, a, b, a (never a burst to one endpoint). O(1) while every weight is the same.
 */
function smoothRoundRobin<T>(): Chooser<T> {
  let turn = 0;
  const credit = new WeakMap<EndpointRecord, number>();
  return (records) => {
    const first = records[0] as EndpointRecord;
    if (records.every((record) => record.weight === first.weight)) {
      return records[turn++ % records.length] as EndpointRecord;
    }
    let total = 0;
    let best = first;
    let bestCredit = -Infinity;
    for (const record of records) {
      const next = (credit.get(record) ?? 0) + record.weight;
      credit.set(record, next);
      total += record.weight;
      if (next > bestCredit) {
        best = record;
        bestCredit = next;
      }
    }
    credit.set(best, bestCredit - total);
    return best;
  };
}

/** One record at random, in proportion to its weight. */
function weightedRandom(records: readonly EndpointRecord[], random: () => number): EndpointRecord {
  const first = records[0] as EndpointRecord;
  if (records.every((record) => record.weight === first.weight)) {
    return records[Math.floor(random() * records.length)] as EndpointRecord;
  }
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

/** The power of two choices: two records at random (by weight), the cheaper of them. */
function powerOfTwo<T>(
  random: () => number,
  cost: (record: EndpointRecord, now: number, other: EndpointRecord) => number,
): Chooser<T> {
  return (records, _value, now) => {
    if (records.length === 1) {
      return records[0] as EndpointRecord;
    }
    const a = weightedRandom(records, random);
    let b = weightedRandom(records, random);
    for (let tries = 0; b === a && tries < 4; tries++) {
      b = weightedRandom(records, random);
    }
    if (b === a) {
      b = records[(records.indexOf(a) + 1) % records.length] as EndpointRecord;
    }
    const costA = cost(a, now, b);
    const costB = cost(b, now, a);
    return costA < costB ? a : costB < costA ? b : random() < 0.5 ? a : b;
  };
}
