import type { Endpoint } from '../endpoint/Endpoint';

const collator = new Intl.Collator('en', { numeric: true });

/**
 * Endpoints in the order a person reads addresses: numbers by value (`10.1.0.2` before `10.1.0.10`,
 * port `:8` before `:80`), the rest as text. Lists hold them in byte order (what a binary search
 * needs); the command line prints them this way.
 */
export function byAddress(endpoints: readonly Endpoint[]): readonly Endpoint[] {
  return [...endpoints].sort((a, b) => collator.compare(a.address, b.address));
}
