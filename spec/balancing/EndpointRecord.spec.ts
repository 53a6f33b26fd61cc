import { EndpointRecord } from '../../lib/balancing/EndpointRecord';

const latency = { decayMs: 10_000, defaultMs: 5 };
const fresh = () => new EndpointRecord({ service: 'web', address: 'a:1' }, 1);

describe('EndpointRecord', () => {
  it('counts calls in flight, successes and failures; an abandoned call is neither', () => {
    const record = fresh();
    record.started();
    record.started();
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
