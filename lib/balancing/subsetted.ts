import { combineLatest, defaultIfEmpty, map, type Observable, tap } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { subsetOf } from './aperture';
import type { SubsetOptions } from './SubsetOptions';

/** A list as a balancer takes it: this client's part of it, each endpoint's share of its weight. */
interface SubsetList {
  readonly list: readonly Endpoint[];
  /** With subsetting: each endpoint's share of its weight, in (0, 1]. */
  readonly factors: ReadonlyMap<string, number> | undefined;
}

/**
 * `endpoints$` narrowed to this client's subset, worked out again whenever the list or `subset.peers$`
 * changes (the whole list without `subset`). `peersKnown` is told when the peers give a first list;
 * `warn` when they complete without one, which leaves subsetting off.
 * @internal
 */
export function subsetted(
  endpoints$: Observable<readonly Endpoint[]>,
  subset: SubsetOptions | undefined,
  peersKnown: () => void,
  warn: (message: string) => void,
): Observable<SubsetList> {
  if (subset === undefined) {
    return endpoints$.pipe(map((list) => ({ list, factors: undefined })));
  }
  return combineLatest([
    endpoints$,
    subset.peers$.pipe(
      tap(peersKnown),
      // No peers ever: no place among them to take a subset from.
      defaultIfEmpty(undefined),
    ),
  ]).pipe(
    map(([list, peers]) => {
      if (peers !== undefined) {
        return subsetOf(list, peers, subset);
      }
      warn(
        'balancer: subset.peers$ completed without a list of peers; subsetting is off, calls go to every endpoint',
      );
      return { list, factors: undefined };
    }),
  );
}
