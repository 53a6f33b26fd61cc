/**
 * How many runs a property suite makes: `fallback` in `npm test` (a few seconds each), more with
 * GSR_PROPERTY_RUNS (e.g. `GSR_PROPERTY_RUNS=500 npx jest spec/properties`).
 */
export function propertyRuns(fallback: number): number {
  const runs = Number(process.env.GSR_PROPERTY_RUNS);
  return Number.isSafeInteger(runs) && runs > 0 ? runs : fallback;
}
