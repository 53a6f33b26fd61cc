import type { Endpoint } from '../endpoint/Endpoint';
import { sameEndpoint } from '../endpoint/sameEndpoint';
import type { EndpointChanges } from './EndpointChanges';

/** What a list that a registry emitted knows of the one before it. */
interface Delta {
  /**
   * The list before (`undefined` for the first of a stream). Only the latest list keeps its delta (the
   * one before it forgets its own), so that no chain of lists, 100,000-endpoint arrays among them,
   * stays reachable from the latest.
   */
  readonly previous: readonly Endpoint[] | undefined;
  /** Worked out when first asked for, when the registry did not track them (a fresh read). */
  changes: EndpointChanges | undefined;
  readonly revision: bigint | undefined;
}

/** Each emitted list's delta from the list emitted before it, while someone holds the list. */
const deltas = new WeakMap<readonly Endpoint[], Delta>();

/**
 * Records that `list` followed `previous` at `revision`, with `changes` when they are known (else they
 * are worked out the first time someone asks), so that {@link changesBetween} hands them out in
 * O(changes) rather than comparing two lists. @internal
 */
export function recordChanges(
  list: readonly Endpoint[],
  previous: readonly Endpoint[] | undefined,
  revision: bigint | undefined,
  changes?: Omit<EndpointChanges, 'revision'>,
): void {
  if (previous !== undefined) {
    deltas.delete(previous);
  }
  deltas.set(list, {
    previous,
    revision,
    changes: changes && { ...changes, ...(revision !== undefined && { revision }) },
  });
}

/**
 * What changed from `previous` (`undefined`: nothing yet) to `list`: as the registry recorded it when
 * `list` followed `previous` there (O(changes)), else by comparing them by address (O(n), n log n when
 * a list is not sorted by address).
 * @internal
 */
export function changesBetween(
  previous: readonly Endpoint[] | undefined,
  list: readonly Endpoint[],
): EndpointChanges {
  const known = deltas.get(list);
  if (known !== undefined && known.previous === previous) {
    known.changes ??= compare(previous, list, known.revision);
    return known.changes;
  }
  return compare(previous, list, undefined);
}

function compare(
  previous: readonly Endpoint[] | undefined,
  list: readonly Endpoint[],
  revision: bigint | undefined,
): EndpointChanges {
  const before = new Map((previous ?? []).map((endpoint) => [endpoint.address, endpoint]));
  const added: Endpoint[] = [];
  const updated: Endpoint[] = [];
  const seen = new Set<string>();
  for (const endpoint of list) {
    if (seen.has(endpoint.address)) {
      continue; // A list of the user's may repeat an address: the first one counts.
    }
    seen.add(endpoint.address);
    const old = before.get(endpoint.address);
    if (old === undefined) {
      added.push(endpoint);
    } else if (old !== endpoint && !sameEndpoint(old, endpoint)) {
      updated.push(endpoint);
    }
  }
  const removed = [...before.values()].filter((endpoint) => !seen.has(endpoint.address));
  return { added, removed, updated, ...(revision !== undefined && { revision }) };
}
