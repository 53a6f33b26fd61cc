import { applyUpdate } from '../../lib/discovery/applyUpdate';
import type { KeyChange, PrefixState, PrefixUpdate } from '../../lib/discovery/PrefixUpdate';
import type { KeyValue } from '../../lib/keys/KeyLayout';
import { deleteOf, entry, putOf } from '../support/keyValues';

/** A state whose value is the sorted set of keys. */
class KeySet implements PrefixState<string> {
  #keys = new Set<string>();
  reset(entries: readonly KeyValue[]): boolean {
    const before = this.snapshot();
    this.#keys = new Set(entries.map((e) => e.key.toString()));
    return this.snapshot() !== before;
  }
  apply(changes: readonly KeyChange[]): boolean {
    const before = this.snapshot();
    changes.forEach((c) =>
      c.type === 'put' ? this.#keys.add(c.key.toString()) : this.#keys.delete(c.key.toString()),
    );
    return this.snapshot() !== before;
  }
  snapshot(): string {
    return [...this.#keys].sort().join(',');
  }
}

const reset = (...keys: string[]): PrefixUpdate => ({
  kind: 'reset',
  entries: keys.map((key) => entry(key)),
  afterLive: true,
});
const changes = (...ops: string[]): PrefixUpdate => ({
  kind: 'changes',
  changes: ops.map((op) => (op.startsWith('+') ? putOf(op.slice(1)) : deleteOf(op.slice(1)))),
});

/** What a stream of updates emits: applyUpdate's verdicts, as a LiveList folds them. */
function emitted(updates: readonly PrefixUpdate[]): string[] {
  const state = new KeySet();
  const values: string[] = [];
  for (const update of updates) {
    if (applyUpdate(state, update, values.length === 0)) {
      values.push(state.snapshot());
    }
  }
  return values;
}

describe('applyUpdate', () => {
  it('emits the first snapshot even when empty, then only changes', () => {
    expect(
      emitted([
        reset(),
        changes('+x'),
        changes('+x'), // already there: no emission
        reset('x'), // a re-read that finds the same: no emission
        changes('+y', '-x'), // one response, one emission
      ]),
    ).toEqual(['', 'x', 'y']);
  });

  it('emits a first value that is not empty', () => {
    expect(emitted([reset('k'), changes('+m')])).toEqual(['k', 'k,m']);
  });
});
