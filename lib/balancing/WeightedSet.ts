import type { EndpointRecord } from './EndpointRecord';

/** Where a record sits in a set: its slot, its place in the round-robin heap and its turn. */
interface Entry {
  readonly record: EndpointRecord;
  /** Its weight as the tree holds it. */
  weight: number;
  slot: number;
  /** Its place among the records of its weight. */
  classSlot: number;
  heap: number;
  /** Weighted round-robin (earliest deadline first): when its next turn is due. */
  deadline: number;
  /** Ties between equal deadlines go to the earlier arrival. */
  readonly order: number;
}

/**
 * A set of endpoint records that picks in O(log n) whatever the weights, and O(1) while every weight is
 * the same:
 *
 * - **by weight, at random**: the records sit in dense slots, their weights in a Fenwick tree of prefix
 *   sums; a pick descends it (`log2 n` steps: 16 at 50,000);
 * - **in turn, by weight**: earliest deadline first, each record due every `1 / weight`, starting half a
 *   period in (so that 2:1 goes a, b, a, a, b, a, as nginx's smooth round-robin does), from a binary
 *   heap; plain rotation over the slots while the weights are equal.
 *
 * Adding, removing or reweighing one record is O(log n). Nothing here knows about ejection or zones:
 * the caller skips what it may not pick.
 * @internal
 */
export class WeightedSet {
  readonly #entries = new Map<EndpointRecord, Entry>();
  #slots: Entry[] = [];
  /** The records by slot, beside `#slots`: a draw reads one object less (a cache miss at 50,000). */
  #records: EndpointRecord[] = [];
  /** Fenwick tree over slot weights, 1-based. */
  #tree = new Float64Array(16);
  #total = 0;
  readonly #heap: Entry[] = [];
  /**
   * The records of each weight: the set is uniform when there is one weight, and while there are few,
   * a weighted draw picks a weight (by its records' total), then one of its records: O(1), one random
   * read of memory (the tree's descent reads 16 at 50,000, most of them cache misses).
   */
  readonly #classes = new Map<number, EndpointRecord[]>();
  #turn = 0;
  #now = 0;
  #order = 0;
  /** Changes whenever a record joins or leaves: what is derived from the members is stale. */
  version = 0;

  get size(): number {
    return this.#slots.length;
  }

  /** The sum of its records' weights. */
  get totalWeight(): number {
    return this.#total;
  }

  has(record: EndpointRecord): boolean {
    return this.#entries.has(record);
  }

  /** Every record, in no particular order. */
  records(): EndpointRecord[] {
    return this.#records.slice();
  }

  add(record: EndpointRecord): void {
    if (this.#entries.has(record)) {
      return;
    }
    const weight = record.weight;
    const entry: Entry = {
      record,
      weight,
      slot: this.#slots.length,
      classSlot: 0,
      heap: this.#heap.length,
      deadline: this.#now + 0.5 / weight,
      order: this.#order++,
    };
    this.#entries.set(record, entry);
    this.#slots.push(entry);
    this.#records.push(record);
    if (this.#slots.length >= this.#tree.length) {
      this.#rebuild();
    } else {
      this.#addAt(entry.slot, weight);
    }
    this.#join(entry);
    this.#heap.push(entry);
    this.#up(entry.heap);
    this.version += 1;
  }

  delete(record: EndpointRecord): void {
    const entry = this.#entries.get(record);
    if (entry === undefined) {
      return;
    }
    this.#entries.delete(record);
    this.#leave(entry);
    // The last slot moves into the freed one.
    const lastSlot = this.#slots.length - 1;
    const last = this.#slots[lastSlot] as Entry;
    this.#addAt(entry.slot, -entry.weight);
    if (last !== entry) {
      this.#addAt(lastSlot, -last.weight);
      this.#addAt(entry.slot, last.weight);
      this.#slots[entry.slot] = last;
      this.#records[entry.slot] = last.record;
      last.slot = entry.slot;
    }
    this.#slots.pop();
    this.#records.pop();
    const tail = this.#heap.pop() as Entry;
    if (tail !== entry) {
      this.#heap[entry.heap] = tail;
      tail.heap = entry.heap;
      this.#down(this.#up(tail.heap));
    }
    this.version += 1;
    if (this.#slots.length === 0) {
      this.#total = 0; // No drift left behind.
    }
  }

  /** The record's weight changed (`record.weight`). */
  reweigh(record: EndpointRecord): void {
    const entry = this.#entries.get(record);
    if (entry === undefined) {
      return;
    }
    const before = entry.weight;
    const after = record.weight;
    if (before !== after) {
      this.#leave(entry);
      entry.weight = after;
      this.#join(entry);
      this.#addAt(entry.slot, after - before);
    }
  }

  /** Every weight changed: the tree is built again, O(n). */
  reweighAll(): void {
    this.#classes.clear();
    for (const entry of this.#slots) {
      entry.weight = entry.record.weight;
      this.#join(entry);
    }
    this.#rebuild();
  }

  /** A record at random, in proportion to its weight; `undefined` when the set is empty. */
  sample(random: () => number): EndpointRecord | undefined {
    const size = this.#slots.length;
    if (size === 0) {
      return undefined;
    }
    const classes = this.#classes;
    if (classes.size === 1) {
      return this.#records[Math.floor(random() * size)];
    }
    if (classes.size <= FEW_WEIGHTS) {
      let point = random() * this.#total;
      let last: EndpointRecord[] | undefined;
      for (const [weight, records] of classes) {
        last = records;
        point -= weight * records.length;
        if (point < 0) {
          break;
        }
      }
      const records = last as EndpointRecord[];
      return records[Math.floor(random() * records.length)];
    }
    // The smallest slot whose prefix sum exceeds the point.
    let point = random() * this.#total;
    let index = 0;
    for (let step = highestBit(this.#tree.length - 1); step > 0; step >>= 1) {
      const next = index + step;
      if (next < this.#tree.length && (this.#tree[next] as number) <= point) {
        index = next;
        point -= this.#tree[next] as number;
      }
    }
    return this.#records[Math.min(index, size - 1)];
  }

  /** Whether every record has the same weight. */
  get uniform(): boolean {
    return this.#classes.size <= 1;
  }

  /**
   * The record whose turn it is, by weight; `undefined` when the set is empty. With `weightNow`, a
   * record's next turn is as far off as the weight it gives the record now (Envoy's weighted least
   * request: a weight divided by the record's load when it is picked).
   */
  turn(weightNow?: (record: EndpointRecord) => number): EndpointRecord | undefined {
    const size = this.#slots.length;
    if (size === 0) {
      return undefined;
    }
    if (this.#classes.size === 1 && weightNow === undefined) {
      const record = this.#records[this.#turn % size];
      this.#turn = (this.#turn + 1) % size;
      return record;
    }
    const entry = this.#heap[0] as Entry;
    this.#now = entry.deadline;
    entry.deadline += 1 / (weightNow?.(entry.record) ?? entry.weight);
    this.#down(0);
    return entry.record;
  }

  #addAt(slot: number, delta: number): void {
    this.#total += delta;
    for (let i = slot + 1; i < this.#tree.length; i += i & -i) {
      this.#tree[i] = (this.#tree[i] as number) + delta;
    }
  }

  #rebuild(): void {
    let capacity = this.#tree.length;
    while (capacity <= this.#slots.length) {
      capacity *= 2;
    }
    const tree = new Float64Array(capacity);
    let total = 0;
    this.#slots.forEach((entry, slot) => {
      tree[slot + 1] = entry.weight;
      total += entry.weight;
    });
    // Linear-time construction: each node passes its sum to its parent.
    for (let i = 1; i < capacity; i++) {
      const parent = i + (i & -i);
      if (parent < capacity) {
        tree[parent] = (tree[parent] as number) + (tree[i] as number);
      }
    }
    this.#tree = tree;
    this.#total = total;
  }

  #join(entry: Entry): void {
    let records = this.#classes.get(entry.weight);
    if (records === undefined) {
      records = [];
      this.#classes.set(entry.weight, records);
    }
    entry.classSlot = records.length;
    records.push(entry.record);
  }

  #leave(entry: Entry): void {
    const records = this.#classes.get(entry.weight) as EndpointRecord[];
    const moved = records.pop() as EndpointRecord;
    if (moved !== entry.record) {
      records[entry.classSlot] = moved;
      (this.#entries.get(moved) as Entry).classSlot = entry.classSlot;
    }
    if (records.length === 0) {
      this.#classes.delete(entry.weight);
    }
  }

  #before(a: Entry, b: Entry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }

  /** Moves the entry at `index` up while it is due before its parent; returns where it ends. */
  #up(index: number): number {
    const heap = this.#heap;
    let at = index;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.#before(heap[at] as Entry, heap[parent] as Entry)) {
        break;
      }
      this.#swap(at, parent);
      at = parent;
    }
    return at;
  }

  #down(index: number): void {
    const heap = this.#heap;
    let at = index;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let first = at;
      if (left < heap.length && this.#before(heap[left] as Entry, heap[first] as Entry)) {
        first = left;
      }
      if (right < heap.length && this.#before(heap[right] as Entry, heap[first] as Entry)) {
        first = right;
      }
      if (first === at) {
        return;
      }
      this.#swap(at, first);
      at = first;
    }
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap;
    const a = heap[i] as Entry;
    const b = heap[j] as Entry;
    heap[i] = b;
    heap[j] = a;
    a.heap = j;
    b.heap = i;
  }
}

/** Up to this many distinct weights, a weighted draw goes by weight class. */
const FEW_WEIGHTS = 8;

function highestBit(n: number): number {
  let bit = 1;
  while (bit * 2 <= n) {
    bit *= 2;
  }
  return bit;
}
