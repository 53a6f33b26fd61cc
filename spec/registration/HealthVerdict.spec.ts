import fc from 'fast-check';
import { HealthVerdict } from '../../lib/registration/HealthVerdict';

describe('HealthVerdict', () => {
  it('decides at the first outcome', () => {
    const passed = new HealthVerdict(3, 2);
    expect(passed.state).toBeUndefined();
    expect(passed.record(true)).toBe(true);
    expect(passed.state).toBe('serving');
    const failed = new HealthVerdict(3, 2);
    expect(failed.record(false)).toBe(true);
    expect(failed.state).toBe('failing');
  });

  it('turns failing after unhealthyAfter failures in a row, serving after healthyAfter passes', () => {
    const verdict = new HealthVerdict(3, 2);
    verdict.record(true);
    expect([false, false, true, false, false].map((passed) => verdict.record(passed))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(verdict.record(false)).toBe(true);
    expect(verdict.state).toBe('failing');
    expect(verdict.record(true)).toBe(false);
    expect(verdict.record(false)).toBe(false);
    expect(verdict.record(true)).toBe(false);
    expect(verdict.record(true)).toBe(true);
    expect(verdict.state).toBe('serving');
  });

  it('changes state exactly when the last outcomes agree for long enough, whatever the order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
        (unhealthyAfter, healthyAfter, outcomes) => {
          const verdict = new HealthVerdict(unhealthyAfter, healthyAfter);
          let state: 'serving' | 'failing' | undefined;
          let streak = 0;
          for (const passed of outcomes) {
            const changed = verdict.record(passed);
            // The model: the first outcome decides; then a run of `needed` outcomes against the state.
            const against = passed ? 'failing' : 'serving';
            let expected = false;
            if (state === undefined) {
              state = passed ? 'serving' : 'failing';
              expected = true;
            } else if (state === against) {
              streak += 1;
              if (streak === (passed ? healthyAfter : unhealthyAfter)) {
                state = passed ? 'serving' : 'failing';
                streak = 0;
                expected = true;
              }
            } else {
              streak = 0;
            }
            expect(changed).toBe(expected);
            expect(verdict.state).toBe(state);
          }
        },
      ),
    );
  });
});
