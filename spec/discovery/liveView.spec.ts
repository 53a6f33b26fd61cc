import { TestScheduler } from 'rxjs/testing';
import { liveView } from '../../lib/discovery/liveView';
import type {
  KeyChange,
  KeyValue,
  PrefixState,
  PrefixUpdate,
} from '../../lib/discovery/PrefixUpdate';
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
  revision: 1n,
  entries: keys.map((key) => entry(key)),
});
const changes = (...ops: string[]): PrefixUpdate => ({
  kind: 'changes',
  revision: 2n,
  changes: ops.map((op) => (op.startsWith('+') ? putOf(op.slice(1)) : deleteOf(op.slice(1)))),
});

describe('liveView', () => {
  const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

  it('emits the first snapshot even when empty, then only changes', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const updates = cold('a-b-c-d-e|', {
        a: reset(),
        b: changes('+x'),
        c: changes('+x'), // already there: no emission
        d: reset('x'), // a re-read that finds the same: no emission
        e: changes('+y', '-x'), // one response, one emission
      });
      expectObservable(liveView(updates, () => new KeySet())).toBe('a-b-----e|', {
        a: '',
        b: 'x',
        e: 'y',
      });
      expectSubscriptions(updates.subscriptions).toBe('^--------!');
    });
  });

  it('gives every subscription a state of its own', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a-b|', { a: reset('k'), b: changes('+m') });
      const view = liveView(updates, () => new KeySet());
      expectObservable(view).toBe('a-b|', { a: 'k', b: 'k,m' });
      expectObservable(view, '--^').toBe('--a-b|', { a: 'k', b: 'k,m' });
    });
  });

  it('passes errors through and unsubscribes upstream with its subscriber', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('a-#', { a: reset('k') }, new Error('permission denied'));
      expectObservable(liveView(failing, () => new KeySet())).toBe(
        'a-#',
        { a: 'k' },
        new Error('permission denied'),
      );
      const endless = cold('a----', { a: reset() });
      expectObservable(
        liveView(endless, () => new KeySet()),
        '^--!',
      ).toBe('a--', { a: '' });
      expectSubscriptions(endless.subscriptions).toBe('^--!');
    });
  });
});
