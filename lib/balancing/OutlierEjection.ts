import { ADMITTED, type Ejection, ejectionAt } from './Ejection';
import type { Chooser } from './createChooser';
import type { EndpointRecord } from './EndpointRecord';
import type { WeightedSet } from './WeightedSet';

/** How outlier ejection works; see {@link BalancerOptions.outlier}. @internal */
interface OutlierPolicy {
  readonly consecutiveFailures: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  /** At most this share of a candidate set (and one) is ejected at a time. */
  readonly maxEjectionPercent: number;
}

/**
 * Outlier ejection as a wrapper around a chooser, the way grpc-js's outlier detection wraps a child
 * policy: it hides ejected endpoints from the chooser, lets a probation's one trial call through, falls
 * back on every candidate when that leaves none (panic mode), and turns outcomes into ejections and
 * readmissions. Each record's {@link Ejection} is its only state; how many of a set are ejected is
 * counted from those states (cached until one changes or the set does), never kept beside them.
 * @internal
 */
export class OutlierEjection<T> {
  readonly #policy: OutlierPolicy | undefined;
  readonly #choose: Chooser<T>;
  /** Bumped each time a record goes out or comes back in: the counts below are then counted again. */
  #epoch = 0;
  readonly #counts = new WeakMap<
    WeightedSet,
    { readonly epoch: number; readonly version: number; readonly count: number }
  >();

  /** @param policy How ejection works; `undefined` turns it off (no one is ever ejected). */
  constructor(policy: OutlierPolicy | undefined, choose: Chooser<T>) {
    this.#policy = policy;
    this.#choose = choose;
  }

  /**
   * A record from `set` that `ok` accepts, by the chooser: one not ejected (or on probation with no trial
   * in flight); when there is none, any that `ok` accepts.
   */
  pick(
    set: WeightedSet,
    value: T,
    now: number,
    ok: (record: EndpointRecord) => boolean,
    inListOrder: () => readonly EndpointRecord[],
  ): EndpointRecord | undefined {
    return (
      this.#choose(
        set,
        value,
        now,
        (record) => ok(record) && this.eligible(record, now),
        inListOrder,
      ) ?? this.#choose(set, value, now, ok, inListOrder)
    );
  }

  /** Whether `record` may be picked now: in, or on probation with no trial in flight. */
  eligible(record: EndpointRecord, now: number): boolean {
    if (record.ejection.kind === 'in') {
      return true; // The path of nearly every pick: no call, no write.
    }
    const ejection = this.#settle(record, now);
    return ejection.kind === 'probation' && !ejection.trialInFlight;
  }

  /** A call starts on `record`: on probation, it is the trial. */
  started(record: EndpointRecord, now: number): void {
    const ejection = this.#settle(record, now);
    if (ejection.kind === 'probation') {
      record.ejection = { ...ejection, trialInFlight: true };
    }
  }

  /** A call on `record` was abandoned by its caller: a trial that decides nothing. */
  abandoned(record: EndpointRecord): void {
    const ejection = record.ejection;
    if (ejection.kind === 'probation') {
      record.ejection = { ...ejection, trialInFlight: false };
    }
  }

  /** A call on `record` succeeded. Returns whether that readmitted it (its probation passed). */
  succeeded(record: EndpointRecord, now: number): boolean {
    if (this.#settle(record, now).kind !== 'probation') {
      return false;
    }
    this.#set(record, ADMITTED);
    return true;
  }

  /**
   * A call on `record` failed, after {@link EndpointRecord.failed} counted it. It is ejected after
   * `consecutiveFailures` in a row, at once for a refused connection, and again (for longer) when its
   * trial fails, unless that would take more than the policy's share of `set` out; `set` is
   * `undefined` for a record no longer listed. Returns the interval it is ejected for, if it is.
   */
  failed(
    record: EndpointRecord,
    now: number,
    refused: boolean,
    set: WeightedSet | undefined,
  ): number | undefined {
    const ejection = this.#settle(record, now);
    if (ejection.kind === 'probation') {
      record.ejection = { ...ejection, trialInFlight: false };
    }
    const policy = this.#policy;
    if (policy === undefined || set === undefined || ejection.kind === 'out') {
      return undefined;
    }
    if (ejection.kind === 'in') {
      if (!refused && record.consecutiveFailures < policy.consecutiveFailures) {
        return undefined;
      }
      const allowed = Math.max(1, Math.floor((set.size * policy.maxEjectionPercent) / 100));
      if (this.ejectedIn(set) >= allowed) {
        return undefined; // Enough of the list is out already.
      }
    }
    const count = ejection.kind === 'in' ? 0 : ejection.count;
    const interval = Math.min(policy.baseEjectionMs * 2 ** count, policy.maxEjectionMs);
    this.#set(record, { kind: 'out', until: now + interval, count: count + 1 });
    return interval;
  }

  /** Changes whenever a record goes out or comes back in: what is derived from ejections is stale. */
  get epoch(): number {
    return this.#epoch;
  }

  /** How many records of `set` are ejected (out or on probation), counted from their states. */
  ejectedIn(set: WeightedSet): number {
    const cached = this.#counts.get(set);
    if (cached !== undefined && cached.epoch === this.#epoch && cached.version === set.version) {
      return cached.count;
    }
    let count = 0;
    if (this.#epoch > 0) {
      for (const record of set.records()) {
        count += record.ejection.kind === 'in' ? 0 : 1;
      }
    }
    this.#counts.set(set, { epoch: this.#epoch, version: set.version, count });
    return count;
  }

  #settle(record: EndpointRecord, now: number): Ejection {
    const ejection = ejectionAt(record.ejection, now);
    record.ejection = ejection;
    return ejection;
  }

  #set(record: EndpointRecord, ejection: Ejection): void {
    if ((record.ejection.kind === 'in') !== (ejection.kind === 'in')) {
      this.#epoch += 1;
    }
    record.ejection = ejection;
  }
}
