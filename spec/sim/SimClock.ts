import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';
import type { Cancel, Clock } from '../../lib/etcd/Clock';

/** Something that happens at a virtual time: a timer of the code under test, or one of the simulation. */
interface Timed {
  readonly time: number;
  /** Ties at one time run in the order they were scheduled. */
  readonly order: number;
  readonly run: () => void;
  /** Whether it is a timer of the code under test that would keep a real process alive. */
  readonly keepsAlive: boolean;
  cancelled: boolean;
}

/**
 * Virtual time and seeded chance for a simulation: the {@link Clock} the code under test runs on, and
 * the queue of everything that happens, in time order. Nothing waits on the wall clock; one seed
 * decides every choice, so a run replays exactly.
 */
export class SimClock implements Clock {
  readonly #random: RandomGenerator;
  #now = 0;
  #order = 0;
  /** A binary heap on (time, order). */
  readonly #heap: Timed[] = [];

  constructor(seed: number) {
    this.#random = xoroshiro128plus(seed);
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, fn: () => void, options?: { readonly keepsAlive?: boolean }): Cancel {
    return this.#push(delayMs, fn, options?.keepsAlive !== false);
  }

  /** Schedules something the simulation does (not a timer of the code under test). */
  at(delayMs: number, fn: () => void): Cancel {
    return this.#push(delayMs, fn, false);
  }

  random(): number {
    return uniformFloat64(this.#random);
  }

  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return uniformInt(this.#random, min, max);
  }

  /** Whether something that happens with probability `p` happens. */
  chance(p: number): boolean {
    return this.random() < p;
  }

  /** One of `items` (not empty). */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }

  /** Runs the next thing due, moving time to it; `false` when nothing is scheduled. */
  step(): boolean {
    let next = this.#pop();
    while (next?.cancelled === true) {
      next = this.#pop();
    }
    if (next === undefined) {
      return false;
    }
    this.#now = Math.max(this.#now, next.time);
    next.run();
    return true;
  }

  /** When the next thing is due, if anything is. */
  nextTime(): number | undefined {
    while (this.#heap[0]?.cancelled === true) {
      this.#pop();
    }
    return this.#heap[0]?.time;
  }

  /** Moves time forward to `time` (never back), without running anything. */
  advanceTo(time: number): void {
    this.#now = Math.max(this.#now, time);
  }

  /** Timers of the code under test still pending that would keep a real process alive. */
  liveTimers(): number {
    return this.#heap.filter((timed) => timed.keepsAlive && !timed.cancelled).length;
  }

  #push(delayMs: number, run: () => void, keepsAlive: boolean): Cancel {
    const timed: Timed = {
      time: this.#now + Math.max(0, delayMs),
      order: this.#order++,
      run,
      keepsAlive,
      cancelled: false,
    };
    const heap = this.#heap;
    heap.push(timed);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timed, heap[parent] as Timed)) {
        break;
      }
      heap[i] = heap[parent] as Timed;
      i = parent;
    }
    heap[i] = timed;
    return () => {
      timed.cancelled = true;
    };
  }

  #pop(): Timed | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) {
      return top;
    }
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      let smallestItem = last;
      if (left < heap.length && before(heap[left] as Timed, smallestItem)) {
        smallest = left;
        smallestItem = heap[left] as Timed;
      }
      if (right < heap.length && before(heap[right] as Timed, smallestItem)) {
        smallest = right;
      }
      if (smallest === i) {
        break;
      }
      heap[i] = heap[smallest] as Timed;
      i = smallest;
    }
    heap[i] = last;
    return top;
  }
}

function before(a: Timed, b: Timed): boolean {
  return a.time < b.time || (a.time === b.time && a.order < b.order);
}
