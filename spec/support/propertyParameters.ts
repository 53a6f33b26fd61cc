import type { Parameters } from 'fast-check';

/**
 * How a property suite on real etcd runs: `fallback` runs in `npm test` (a few seconds each), more with
 * GSR_PROPERTY_RUNS (e.g. `GSR_PROPERTY_RUNS=500 npx jest spec/properties --testTimeout=600000`).
 *
 * In `npm test` a failure is reported as found, with its seed and path to replay it, rather than shrunk:
 * each shrinking step replays steps against etcd and waits out the invariant's deadline, so shrinking
 * would outlast jest's timeout and hide the counterexample behind a bare "Exceeded timeout". A long run
 * (GSR_PROPERTY_RUNS set) shrinks.
 */
export function propertyParameters<T>(fallback: number): Parameters<T> {
  const runs = Number(process.env.GSR_PROPERTY_RUNS);
  const asked = Number.isSafeInteger(runs) && runs > 0;
  return { numRuns: asked ? runs : fallback, endOnFailure: !asked };
}
