import type { Endpoint } from './Endpoint';

/**
 * An endpoint's `metadata.weight` when it is one (a positive, finite number); `undefined` when it has
 * none or holds something else, which every consumer reads as 1 (and says so once, when it is there).
 * @internal
 */
export function declaredWeight(endpoint: Endpoint): number | undefined {
  const weight = endpoint.metadata?.weight;
  return typeof weight === 'number' && Number.isFinite(weight) && weight > 0 ? weight : undefined;
}
