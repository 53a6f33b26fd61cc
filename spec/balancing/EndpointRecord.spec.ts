import { EndpointRecord } from '../../lib/balancing/EndpointRecord';

const outlier = { consecutiveFailures: 3, baseEjectionMs: 1000, maxEjectionMs: 5000 };
const latency = { decayMs: 10_000, defaultMs: 5 };
const fresh = () => new EndpointRecord({ service: 'web', address: 'a:1' }, 1);
const fail = (record: EndpointRecord, now: number, refused = false) =>
  record.failed({ now: now, latencyMs: 1, inFlight: false, refused: refused }, outlier, latency);

describe('EndpointRecord', () => {
  it('asks for ejection after the third failure in a row, and not before', () => {
    const record = fresh();
    expect([fail(record, 0), fail(record, 1)]).toEqual([false, false]);
    record.succeeded({ now: 2, latencyMs: 1, inFlight: false }, latency);
    expect([fail(record, 3), fail(record, 4), fail(record, 5)]).toEqual([false, false, true]);
  });

  it('asks at once for a refused connection', () => {
    expect(fail(fresh(), 0, true)).toBe(true);
  });

  it('ejects for an interval that doubles with each ejection, up to the cap', () => {
    const record = fresh();
    expect([0, 1, 2, 3, 4].map(() => record.eject(0, outlier))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
  });

  it('is out until its interval is over, then on probation: one trial call at a time', () => {
    const record = fresh();
    record.eject(0, outlier);
    expect(record.eligible(999)).toBe(false);
    expect(record.eligible(1000)).toBe(true);
    record.started(1000); // the trial
    expect(record.eligible(1001)).toBe(false);
    record.succeeded({ now: 1010, latencyMs: 1, inFlight: true }, latency);
    expect(record.isEjected()).toBe(false);
    expect(record.eligible(1011)).toBe(true);
    expect(record.ejections).toBe(0);
  });

  it('is ejected again, for longer, when its trial fails', () => {
    const record = fresh();
    record.eject(0, outlier);
    record.started(1000);
    expect(
      record.failed({ now: 1010, latencyMs: 1, inFlight: true, refused: false }, outlier, latency),
    ).toBe(true);
    expect(record.eject(1010, outlier)).toBe(2000);
    expect(record.eligible(2999)).toBe(false);
  });

  it('counts calls in flight, successes and failures; an abandoned call is neither', () => {
    const record = fresh();
    record.started(0);
    record.started(0);
    expect(record.inFlight).toBe(2);
    record.succeeded({ now: 1, latencyMs: 1, inFlight: true }, latency);
    record.abandoned();
    expect([record.inFlight, record.successes, record.failures]).toEqual([0, 1, 0]);
  });

  it('counts a latency reported beyond a minute as a minute, so that it decays within minutes', () => {
    const record = new EndpointRecord({ service: 'web', address: 'a:1' }, 1);
    record.succeeded({ now: 0, latencyMs: 1e308, inFlight: false }, latency);
    expect(record.latency(0, latency)).toBe(60_000);
    expect(record.latency(120_000, latency) ?? Infinity).toBeLessThan(latency.defaultMs);
  });

  it('keeps a peak-EWMA of latency: a slow answer counts at once, a fast one pulls it down over time', () => {
    const record = fresh();
    expect(record.latency(0, latency)).toBeUndefined();
    record.succeeded({ now: 0, latencyMs: 10, inFlight: false }, latency);
    expect(record.latency(0, latency)).toBe(10);
    record.succeeded({ now: 1, latencyMs: 200, inFlight: false }, latency); // a peak
    expect(record.latency(1, latency)).toBe(200);
    record.succeeded({ now: 10_001, latencyMs: 10, inFlight: false }, latency); // one time constant later
    const pulled = record.latency(10_001, latency) ?? NaN;
    expect(pulled).toBeLessThan(200 * Math.exp(-1) + 10);
    expect(pulled).toBeGreaterThan(10);
    // Without new samples it fades, so that an endpoint avoided for being slow is tried again.
    expect(record.latency(10_001 + 50_000, latency)).toBeLessThan(1);
  });
});
