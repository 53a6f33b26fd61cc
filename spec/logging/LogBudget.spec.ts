import { LogBudget } from '../../lib/logging/LogBudget';

describe('LogBudget', () => {
  function setUp() {
    const lines: string[] = [];
    let now = 0;
    const budget = new LogBudget(
      { warn: (message: string) => lines.push(message) },
      { lines: 3, windowMs: 60_000, now: () => now },
    );
    return { budget, lines, advance: (ms: number) => (now += ms) };
  }

  it('writes at most its lines per window and counts what it left out', () => {
    const { budget, lines } = setUp();
    for (let i = 0; i < 1000; i += 1) {
      budget.warn(`nack ${i}`);
    }
    expect(lines).toEqual(['nack 0', 'nack 1', 'nack 2']);
    expect(budget.leftOut).toBe(997);
  });

  it('says how many were left out in the first line of the next window', () => {
    const { budget, lines, advance } = setUp();
    for (let i = 0; i < 5; i += 1) {
      budget.warn(`nack ${i}`);
    }
    advance(59_999);
    budget.warn('still the same window');
    advance(1);
    budget.warn('a new window');
    expect(lines.slice(3)).toEqual(['a new window (3 more like it were left out of the log)']);
    expect(budget.leftOut).toBe(0);
  });
});
