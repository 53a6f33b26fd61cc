import { DEFAULT_WRR, LoadWeight } from '../../lib/balancing/LoadWeight';

describe('LoadWeight (gRFC A58)', () => {
  it('weighs qps over utilization, application utilization first, errors as a penalty', () => {
    const weight = new LoadWeight();
    weight.update({ qps: 100, applicationUtilization: 0.5, cpuUtilization: 0.9 }, 0, DEFAULT_WRR);
    expect(weight.at(10_000, DEFAULT_WRR)).toBe(200);
    weight.update({ qps: 100, cpuUtilization: 0.5, eps: 50 }, 10_000, DEFAULT_WRR);
    // 100 / (0.5 + 50 / 100 × 1)
    expect(weight.at(10_000, DEFAULT_WRR)).toBe(100);
  });

  it('counts a weight only after the 10 s blackout from its first report', () => {
    const weight = new LoadWeight();
    weight.update({ qps: 10, cpuUtilization: 1 }, 1_000, DEFAULT_WRR);
    expect(weight.at(1_000, DEFAULT_WRR)).toBe(0);
    expect(weight.at(10_999, DEFAULT_WRR)).toBe(0);
    expect(weight.at(11_000, DEFAULT_WRR)).toBe(10);
  });

  it('forgets a weight after 3 min without a report, and starts the blackout again', () => {
    const weight = new LoadWeight();
    weight.update({ qps: 10, cpuUtilization: 1 }, 0, DEFAULT_WRR);
    expect(weight.at(179_999, DEFAULT_WRR)).toBe(10);
    expect(weight.at(180_000, DEFAULT_WRR)).toBe(0);
    weight.update({ qps: 10, cpuUtilization: 1 }, 181_000, DEFAULT_WRR);
    expect(weight.at(190_999, DEFAULT_WRR)).toBe(0);
    expect(weight.at(191_000, DEFAULT_WRR)).toBe(10);
  });

  it('ignores reports without qps or utilization, and lies that are not numbers', () => {
    const weight = new LoadWeight();
    for (const report of [
      { qps: 0, cpuUtilization: 0.5 },
      { qps: 10 },
      { qps: 10, cpuUtilization: -1 },
      { qps: Number.NaN, cpuUtilization: 0.5 },
    ]) {
      weight.update(report, 0, DEFAULT_WRR);
    }
    expect(weight.at(60_000, DEFAULT_WRR)).toBe(0);
  });
});
