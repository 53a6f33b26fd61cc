import { showValue } from '../errors/showValue';

/**
 * How calls spill over priorities and zones, as Envoy's settings of the same names; see
 * the Balancer's and the xDS server's locality plan.
 */
export interface LocalityPolicy {
  /** How much more than it needs each priority level can take: 1.4 keeps level 0 whole until fewer than 71.4 % of its endpoints are healthy. */
  readonly overprovisioningFactor: number;
  /** Below this percent of healthy endpoints, a level that the others cannot relieve calls all of its endpoints. */
  readonly panicThreshold: number;
  /** Below this many healthy endpoints in the first level, zone-aware routing is off. */
  readonly minClusterSize: number;
}

/** Envoy's defaults: overprovisioning 1.4, panic below 50 %, zone-aware from 6 endpoints. */
export const DEFAULT_LOCALITY_POLICY: LocalityPolicy = Object.freeze({
  overprovisioningFactor: 1.4,
  panicThreshold: 50,
  minClusterSize: 6,
});

/**
 * `given` over the defaults, each field checked: the error of `fail` (by default a `TypeError`, as the
 * Balancer's other options throw) names the first one that is not what it should be.
 *
 * @example
 * ```ts
 * localityPolicy({ overprovisioningFactor: 1 }); // no overprovisioning: spill at the first failure
 * ```
 */
export function localityPolicy(
  given: { readonly [K in keyof LocalityPolicy]?: unknown } = {},
  field = 'locality',
  fail: (option: string, what: string, value: unknown) => Error = expected,
): LocalityPolicy {
  const check = (
    name: keyof LocalityPolicy,
    ok: (value: number) => boolean,
    what: string,
  ): number => {
    const value = given[name];
    if (value === undefined) {
      return DEFAULT_LOCALITY_POLICY[name];
    }
    if (typeof value !== 'number' || !ok(value)) {
      throw fail(`${field}.${name}`, what, value);
    }
    return value;
  };
  return {
    overprovisioningFactor: check(
      'overprovisioningFactor',
      (value) => value >= 1 && value <= 10,
      'a number from 1 to 10',
    ),
    panicThreshold: check(
      'panicThreshold',
      (value) => value >= 0 && value <= 100,
      'a percent from 0 to 100',
    ),
    minClusterSize: check(
      'minClusterSize',
      (value) => Number.isInteger(value) && value >= 1,
      'a whole number from 1',
    ),
  };
}

function expected(option: string, what: string, value: unknown): TypeError {
  return new TypeError(
    `Expected \`${option}\` to be ${what}, got ${showValue(value, 60)} (${typeof value})`,
  );
}
