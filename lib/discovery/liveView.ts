import { defer, filter, map, type Observable } from 'rxjs';
import type { PrefixState, PrefixUpdate } from './PrefixUpdate';

/**
 * Folds a prefix's updates into a fresh `state` per subscription, emitting the state's snapshot first
 * (even when empty) and then only when an update changed it. Each emission is therefore a state of etcd as
 * of one revision: a watch response is applied whole before anything is emitted.
 * @internal
 */
export function liveView<T>(
  updates$: Observable<PrefixUpdate>,
  createState: () => PrefixState<T>,
): Observable<T> {
  return defer(() => {
    const state = createState();
    let first = true;
    return updates$.pipe(
      filter((update) => {
        const changed =
          update.kind === 'reset' ? state.reset(update.entries) : state.apply(update.changes);
        const emit = changed || first;
        first = false;
        return emit;
      }),
      map(() => state.snapshot()),
    );
  });
}
