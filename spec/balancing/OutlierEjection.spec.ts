import { EndpointRecord } from '../../lib/balancing/EndpointRecord';
import { OutlierEjection } from '../../lib/balancing/OutlierEjection';
import { WeightedSet } from '../../lib/balancing/WeightedSet';

const outlier = {
  consecutiveFailures: 3,
  baseEjectionMs: 1000,
  maxEjectionMs: 5000,
  maxEjectionPercent: 100,
};
const latency = { decayMs: 10_000, defaultMs: 5 };
const fresh = (address = 'a:1') => new EndpointRecord({ service: 'web', address }, 1);
const policy = (maxEjectionPercent = 100) =>
  new OutlierEjection<undefined>({ ...outlier, maxEjectionPercent }, (set, _v, _n, ok) =>
    set.records().find(ok),
  );
const setOf = (...records: EndpointRecord[]) => {
  const set = new WeightedSet();
  records.forEach((record) => set.add(record));
  return set;
};

/** A failed call on `record` at `now`: counted, then judged; the interval it is ejected for, if it is. */
function fail(
  ejection: OutlierEjection<undefined>,
  record: EndpointRecord,
  now: number,
  set = setOf(record),
  refused = false,
): number | undefined {
  const inFlight = record.inFlight > 0;
  record.failed({ now, latencyMs: 1, inFlight }, latency);
  return ejection.failed(record, now, refused, set);
}

function succeed(
  ejection: OutlierEjection<undefined>,
  record: EndpointRecord,
  now: number,
): boolean {
  record.succeeded({ now, latencyMs: 1, inFlight: record.inFlight > 0 }, latency);
  return ejection.succeeded(record, now);
}

function start(ejection: OutlierEjection<undefined>, record: EndpointRecord, now: number): void {
  record.started();
  ejection.started(record, now);
}

describe('OutlierEjection', () => {
  it('ejects after the third failure in a row, and not before', () => {
    const ejection = policy();
    const record = fresh();
    expect([fail(ejection, record, 0), fail(ejection, record, 1)]).toEqual([undefined, undefined]);
    succeed(ejection, record, 2);
    expect([
      fail(ejection, record, 3),
      fail(ejection, record, 4),
      fail(ejection, record, 5),
    ]).toEqual([undefined, undefined, 1000]);
  });

  it('ejects at once for a refused connection', () => {
    const record = fresh();
    expect(fail(policy(), record, 0, setOf(record), true)).toBe(1000);
  });

  it('ejects for an interval that doubles with each failed trial, up to the cap', () => {
    const ejection = policy();
    const record = fresh();
    const intervals = [0, 1, 2, 3, 4].map((i) => {
      const now = i * 10_000;
      start(ejection, record, now);
      return fail(ejection, record, now, setOf(record), true);
    });
    expect(intervals).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('is out until its interval is over, then on probation: one trial call at a time', () => {
    const ejection = policy();
    const record = fresh();
    fail(ejection, record, 0, setOf(record), true);
    expect(ejection.eligible(record, 999)).toBe(false);
    expect(ejection.eligible(record, 1000)).toBe(true);
    start(ejection, record, 1000); // the trial
    expect(ejection.eligible(record, 1001)).toBe(false);
    expect(succeed(ejection, record, 1010)).toBe(true);
    expect(record.ejection).toEqual({ kind: 'in' });
    expect(ejection.eligible(record, 1011)).toBe(true);
    // Readmitted: the next ejection starts from the base interval again.
    expect(fail(ejection, record, 2000, setOf(record), true)).toBe(1000);
  });

  it('is ejected again, for longer, when its trial fails', () => {
    const ejection = policy();
    const record = fresh();
    fail(ejection, record, 0, setOf(record), true);
    start(ejection, record, 1000);
    expect(fail(ejection, record, 1010)).toBe(2000);
    expect(ejection.eligible(record, 2999)).toBe(false);
  });

  it('frees the trial of an abandoned call, and a success while out readmits nothing', () => {
    const ejection = policy();
    const record = fresh();
    start(ejection, record, 0); // in flight before the ejection
    fail(ejection, record, 0, setOf(record), true);
    expect(succeed(ejection, record, 500)).toBe(false);
    expect(ejection.eligible(record, 500)).toBe(false);
    start(ejection, record, 1000);
    expect(ejection.eligible(record, 1000)).toBe(false);
    record.abandoned();
    ejection.abandoned(record);
    expect(ejection.eligible(record, 1000)).toBe(true);
  });

  it('counts the ejected of a set from their states: readmission lowers the count', () => {
    const ejection = policy();
    const [a, b, c] = [fresh('a'), fresh('b'), fresh('c')];
    const set = setOf(a, b, c);
    expect(ejection.ejectedIn(set)).toBe(0);
    fail(ejection, a, 0, set, true);
    fail(ejection, b, 0, set, true);
    expect(ejection.ejectedIn(set)).toBe(2);
    start(ejection, a, 1000);
    succeed(ejection, a, 1000);
    expect(ejection.ejectedIn(set)).toBe(1);
    set.delete(b);
    expect(ejection.ejectedIn(set)).toBe(0);
  });

  it('never takes out more than its share of the set (and always one)', () => {
    const ejection = policy(50);
    const records = ['a', 'b', 'c', 'd', 'e'].map((address) => fresh(address));
    const set = setOf(...records);
    const ejected = records.map((record) => fail(ejection, record, 0, set, true));
    expect(ejected.filter((interval) => interval !== undefined)).toHaveLength(2);
    expect(ejection.ejectedIn(set)).toBe(2);
    const alone = fresh('alone');
    expect(policy(1).failed(alone, 0, true, setOf(alone))).toBe(1000);
  });

  it('picks among the eligible, and any record when none is (panic mode)', () => {
    const ejection = policy();
    const [a, b] = [fresh('a'), fresh('b')];
    const set = setOf(a, b);
    fail(ejection, a, 0, set, true);
    expect(
      ejection.pick(
        set,
        undefined,
        10,
        () => true,
        () => [a, b],
      ),
    ).toBe(b);
    fail(ejection, b, 0, set, true);
    expect(
      ejection.pick(
        set,
        undefined,
        10,
        () => true,
        () => [a, b],
      ),
    ).toBe(a);
  });

  it('ejects no one without a policy', () => {
    const ejection = new OutlierEjection<undefined>(undefined, (set, _v, _n, ok) =>
      set.records().find(ok),
    );
    const record = fresh();
    expect(fail(ejection, record, 0, setOf(record), true)).toBeUndefined();
  });
});
