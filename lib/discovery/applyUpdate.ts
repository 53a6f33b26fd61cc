import type { PrefixState, PrefixUpdate } from './PrefixUpdate';

/**
 * Folds one update into `state` and says whether subscribers must get a new value: always the first
 * time (even for an empty list), then only when the update changed the state. So each emission is a
 * state etcd was in at one revision, and a rewrite of the same value, or a re-read that finds the same
 * list, emits nothing.
 * @internal
 */
export function applyUpdate<T>(
  state: PrefixState<T>,
  update: PrefixUpdate,
  first: boolean,
): boolean {
  const changed =
    update.kind === 'reset'
      ? state.reset(update.entries, update.afterLive)
      : update.kind === 'changes'
        ? state.apply(update.changes)
        : (state.expire?.() ?? false);
  return changed || first;
}
