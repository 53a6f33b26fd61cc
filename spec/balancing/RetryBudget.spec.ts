import { RetryBudget } from '../../lib/balancing/RetryBudget';

describe('RetryBudget', () => {
  it('allows retries of up to 20 % of the calls, beyond a reserve of 10 a second', () => {
    const budget = new RetryBudget({ percent: 20, minPerSecond: 0, windowMs: 10_000 });
    for (let i = 0; i < 100; i++) {
      budget.deposit(1000);
    }
    const allowed = Array.from({ length: 50 }, () => budget.tryWithdraw(1000)).filter(Boolean);
    expect(allowed).toHaveLength(20);
  });

  it('keeps a reserve for a quiet client', () => {
    const budget = new RetryBudget({ percent: 20, minPerSecond: 1, windowMs: 10_000 });
    // No calls at all: the reserve is 1 a second over 10 s.
    const allowed = Array.from({ length: 20 }, () => budget.tryWithdraw(0)).filter(Boolean);
    expect(allowed).toHaveLength(10);
  });

  it('forgets calls and retries once the window has moved past them', () => {
    const budget = new RetryBudget({ percent: 50, minPerSecond: 0, windowMs: 1000 });
    budget.deposit(0);
    budget.deposit(0);
    expect(budget.tryWithdraw(0)).toBe(true);
    expect(budget.tryWithdraw(0)).toBe(false);
    // 1.1 s later the old calls and retries are gone: nothing earned, nothing spent.
    expect(budget.tryWithdraw(1100)).toBe(false);
    budget.deposit(1100);
    budget.deposit(1100);
    expect(budget.tryWithdraw(1100)).toBe(true);
  });

  it('is a sliding window: calls and retries count while they are in it', () => {
    const budget = new RetryBudget({ percent: 100, minPerSecond: 0, windowMs: 1000 });
    budget.deposit(0);
    expect(budget.tryWithdraw(900)).toBe(true); // the call at 0 is still in the window
    budget.deposit(950);
    // The call at 0 has left the window; the one at 950 earned a retry, but the retry at 900 is in it.
    expect(budget.tryWithdraw(1050)).toBe(false);
    budget.deposit(1960);
    // The call at 950 and the retry at 900 are gone; the call at 1960 earned one.
    expect(budget.tryWithdraw(1970)).toBe(true);
  });
});
