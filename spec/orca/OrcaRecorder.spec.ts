import { availableParallelism } from 'node:os';
import { readOrcaReport } from '../../lib/orca/orcaCodec';
import { OrcaRecorder } from '../../lib/orca/OrcaRecorder';
import { SimClock } from '../sim/SimClock';

describe('OrcaRecorder', () => {
  it("samples the process's CPU use and counts requests and errors per second over its window", () => {
    const clock = new SimClock(1);
    let micros = 0;
    const recorder = new OrcaRecorder({
      clock,
      windowSeconds: 10,
      cpuUsage: () => ({ user: micros, system: 0 }),
    });
    // Half a core busy for one second (of all the cores this machine has).
    micros += 500_000;
    clock.step();
    for (let i = 0; i < 30; i++) {
      recorder.count(i % 10 !== 0);
    }
    const report = recorder.report();
    expect(report.cpuUtilization).toBeCloseTo(0.5 / availableParallelism(), 6);
    expect(report).toMatchObject({ qps: 30, eps: 3 });
    // Eleven seconds on, the window holds none of them.
    clock.advanceTo(clock.now() + 11_000);
    expect(recorder.report()).toMatchObject({ qps: 0, eps: 0 });
    recorder.close();
    expect(clock.liveTimers()).toBe(0);
  });

  it("says the application's own figures, and refuses ones that are not finite and >= 0", () => {
    const recorder = new OrcaRecorder({ clock: new SimClock(1) });
    recorder.setApplicationUtilization(0.8);
    recorder.setNamedMetric('queue', 3);
    expect(readOrcaReport(recorder.header())).toMatchObject({
      applicationUtilization: 0.8,
      namedMetrics: { queue: 3 },
    });
    expect(() => recorder.setApplicationUtilization(Number.NaN)).toThrow(
      'Expected `utilization` to be a finite number >= 0, got `NaN`',
    );
    recorder.close();
  });
});
