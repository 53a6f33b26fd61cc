/**
 * Where an endpoint stands with outlier ejection, as one value: picked as usual (`in`); left out until
 * `until` (`out`), the `count`-th ejection in a row; or past that interval, on probation, where one
 * trial call at a time decides between readmission and a longer ejection.
 * @internal
 */
export type Ejection =
  | { readonly kind: 'in' }
  | { readonly kind: 'out'; readonly until: number; readonly count: number }
  | {
      readonly kind: 'probation';
      /** When its ejection ended. */
      readonly since: number;
      readonly count: number;
      readonly trialInFlight: boolean;
    };

/** Picked as usual. @internal */
export const ADMITTED: Ejection = Object.freeze({ kind: 'in' });

/**
 * The ejection as it stands at `now`: an interval that is over is probation, with no trial yet. Pure:
 * the caller stores what it returns.
 * @internal
 */
export function ejectionAt(ejection: Ejection, now: number): Ejection {
  return ejection.kind === 'out' && now >= ejection.until
    ? { kind: 'probation', since: ejection.until, count: ejection.count, trialInFlight: false }
    : ejection;
}
