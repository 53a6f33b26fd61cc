import type { Override } from '../endpoint/Override';
import type { Overrides } from './OverrideList';

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every override, one frozen row per address, sorted by service then address. @internal */
export function sortedOverrides(overrides: Overrides): readonly Override[] {
  const all: Override[] = [];
  for (const [service, addresses] of overrides) {
    for (const [address, maintenance] of addresses) {
      all.push(Object.freeze({ service, address, maintenance }));
    }
  }
  return all.sort((a, b) =>
    a.service === b.service ? compare(a.address, b.address) : compare(a.service, b.service),
  );
}
