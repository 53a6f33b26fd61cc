import fc from 'fast-check';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { EndpointState } from '../../lib/endpoint/EndpointState';
import { DEFAULT_LOCALITY_POLICY } from '../../lib/locality/LocalityPolicy';
import { xdsProtos } from '../../lib/xds/xdsProtos';
import { loadAssignment } from '../../lib/xds/xdsResources';

interface Decoded {
  endpoints?: {
    locality?: { sub_zone?: string };
    lb_endpoints: { health_status?: string }[];
    load_balancing_weight: { value: number };
  }[];
}

const protos = xdsProtos();
const decode = (list: readonly Endpoint[], zone?: string, callers?: readonly Endpoint[]) =>
  protos.endpoints.toObject(
    protos.endpoints.decode(
      loadAssignment(protos, 'api', list, () => undefined, {
        caller: { zone },
        callers,
        zoneAware: callers !== undefined,
        policy: DEFAULT_LOCALITY_POLICY,
      }).value,
    ),
    { enums: String },
  ) as Decoded;

describe('loadAssignment', () => {
  it('sends, while an IP:port endpoint serves, only endpoints to call, with weights summing to 1,000,000 (property)', () => {
    const value = fc.oneof(fc.constantFrom('a', 'b', 0, 1, 2, -1, '\u0007'), fc.anything());
    const endpoint = fc.record({
      zone: value,
      priority: value,
      weight: value,
      state: fc.constantFrom<EndpointState>(
        'serving',
        'draining',
        'failing',
        'maintenance',
        'lost',
      ),
    });
    fc.assert(
      fc.property(
        fc.array(endpoint, { minLength: 1, maxLength: 10 }),
        fc.array(fc.constantFrom('a', 'b'), { maxLength: 4 }),
        fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
        (given, callerZones, zone) => {
          const list = given.map(({ state, ...metadata }, i) => ({
            service: 'api',
            address: `10.0.0.${i}:80`,
            metadata,
            state,
          }));
          const callers = callerZones.map((callerZone, i) => ({
            service: 'web',
            address: `10.1.0.${i}:80`,
            metadata: { zone: callerZone },
          }));
          const { endpoints = [] } = decode(list, zone, callers);
          const weights = endpoints.map((one) => one.load_balancing_weight.value);
          if (given.some(({ state }) => state !== 'maintenance')) {
            expect(endpoints.length).toBeGreaterThan(0);
            // Rounding: at most half a unit per locality, and every one at least 1.
            expect(
              Math.abs(weights.reduce((sum, w) => sum + w, 0) - 1_000_000),
            ).toBeLessThanOrEqual(endpoints.length);
          }
          for (const one of endpoints) {
            const sent = list.find((e) => e.address === one.locality?.sub_zone);
            expect(sent?.state).not.toBe('maintenance');
            if (given.some(({ state }) => state === 'serving') && sent?.state === 'draining') {
              throw new Error('a draining endpoint was sent while another serves');
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
