import type { Chooser } from './createChooser';
import type { EndpointRecord } from './EndpointRecord';
import type { WrrPolicy } from './LoadWeight';
import type { WeightedSet } from './WeightedSet';

/** One record's place in the schedule: due at `deadline`, then every `period`. */
interface Turn {
  readonly record: EndpointRecord;
  readonly period: number;
  deadline: number;
}

/** A set's schedule, and what it was built from. */
interface Schedule {
  readonly heap: Turn[];
  readonly version: number;
  readonly builtAt: number;
}

/** Draws before the chooser gives up on the schedule and scans the set. */
const DRAWS = 8;

/**
 * gRFC A58's weighted round robin as a chooser: every `weightUpdatePeriodMs` (or when the set changes)
 * a schedule is built from each record's {@link LoadWeight} (records without one get the mean of
 * those with; with fewer than two weights, every record is equal), times slow start's ramp; it is
 * earliest deadline first, each record due every `1 / weight`, from a random first deadline so that
 * clients do not move in step. Picks skip records `ok` refuses (ejected, tried).
 * @internal
 */
export function wrrChooser<T>(policy: WrrPolicy, random: () => number): Chooser<T> {
  const schedules = new WeakMap<WeightedSet, Schedule>();
  return (set, _value, now, ok) => {
    let schedule = schedules.get(set);
    if (
      schedule === undefined ||
      schedule.version !== set.version ||
      now - schedule.builtAt >= policy.weightUpdatePeriodMs
    ) {
      schedule = build(set, now, policy, random);
      schedules.set(set, schedule);
    }
    for (let i = 0; i < DRAWS; i++) {
      const turn = next(schedule.heap);
      if (turn === undefined || ok(turn.record)) {
        return turn?.record;
      }
    }
    return set.records().find(ok);
  };
}

function build(set: WeightedSet, now: number, policy: WrrPolicy, random: () => number): Schedule {
  const records = set.records();
  const weights = records.map((record) => record.loadWeight.at(now, policy));
  const weighed = weights.filter((weight) => weight > 0);
  const mean =
    weighed.length < 2 ? 1 : weighed.reduce((sum, weight) => sum + weight, 0) / weighed.length;
  const heap: Turn[] = [];
  records.forEach((record, at) => {
    const known = weighed.length < 2 ? 1 : weights[at] || mean;
    const weight = known * record.ramp;
    const period = 1 / Math.max(weight, Number.MIN_VALUE);
    push(heap, { record, period, deadline: random() * period });
  });
  return { heap, version: set.version, builtAt: now };
}

/** The turn due first, moved on by its period. */
function next(heap: Turn[]): Turn | undefined {
  const turn = heap[0];
  if (turn === undefined) {
    return undefined;
  }
  turn.deadline += turn.period;
  down(heap, 0);
  return turn;
}

function push(heap: Turn[], turn: Turn): void {
  heap.push(turn);
  let at = heap.length - 1;
  while (at > 0) {
    const parent = (at - 1) >> 1;
    if ((heap[parent] as Turn).deadline <= turn.deadline) {
      break;
    }
    heap[at] = heap[parent] as Turn;
    at = parent;
  }
  heap[at] = turn;
}

function down(heap: Turn[], from: number): void {
  const turn = heap[from] as Turn;
  let at = from;
  for (;;) {
    const left = at * 2 + 1;
    if (left >= heap.length) {
      break;
    }
    const right = left + 1;
    const child =
      right < heap.length && (heap[right] as Turn).deadline < (heap[left] as Turn).deadline
        ? right
        : left;
    if ((heap[child] as Turn).deadline >= turn.deadline) {
      break;
    }
    heap[at] = heap[child] as Turn;
    at = child;
  }
  heap[at] = turn;
}
