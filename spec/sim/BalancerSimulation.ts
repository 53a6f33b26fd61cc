import { BehaviorSubject } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import type { BalancerOptions } from '../../lib/balancing/BalancerOptions';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { SlowStartOptions } from '../../lib/balancing/SlowStart';
import { isNoEndpointError } from '../../lib/errors/NoEndpointError';
import { SimClock } from './SimClock';
import { testLogger } from '../support/testLogger';

/** How a simulated server answers a call, for now. */
type Behaviour = 'answers' | 'slow' | 'fails' | 'refuses' | 'hangs';
const BEHAVIOURS: readonly Behaviour[] = [
  'answers',
  'answers',
  'answers',
  'slow',
  'fails',
  'refuses',
  'hangs',
];

/** This client's address among its service's clients, with subsetting. */
const SELF = '10.1.0.1:9000';

/** This client and some others of its service, as the peers a subset is taken among. */
function peers(clock: SimClock): readonly Endpoint[] {
  const others = Array.from({ length: clock.int(0, 6) }, (_, i) => `10.1.0.${i + 2}:9000`);
  return [SELF, ...others].map((address) => ({ service: 'client', address }));
}

/** How long a simulated run plays, virtual ms. */
const RUN_MS = 30_000;
/** Past this many events, a run is taken to be stuck. */
const MAX_EVENTS = 200_000;

/** A call the workload made, as the simulation follows it. */
interface Call {
  readonly at: number;
  /** When, and on which endpoints, `fn` was called: its attempts. */
  readonly attempts: { readonly at: number; readonly address: string }[];
  settled: boolean;
  error?: unknown;
}

/** What one run saw, for the spec's summary. */
export interface BalancerRunStats {
  readonly calls: number;
  readonly retries: number;
  readonly ejections: number;
  readonly readmissions: number;
  readonly waitedOut: number;
  /** Endpoints whose slow start was checked over enough calls to tell. */
  readonly rampsChecked: number;
}

/**
 * One seed's schedule of a {@link Balancer} in virtual time: a list of endpoints that changes, servers
 * that answer, slow down, fail, refuse connections and hang (and change their minds), and calls made
 * with deadlines of their own. One seed decides the options, the workload and every delay. Checked after
 * every event:
 *
 * 1. **the ejection cap**: when an endpoint is ejected, no more than `maxEjectionPercent` of the list
 *    (and always one) is ejected; and a refused connection ejects its endpoint while fewer are;
 * 2. **readmission**: a trial call that succeeds leaves its endpoint readmitted;
 * 3. **the retry budget**: for every retry, the retries of the window before it are within the
 *    budget's reserve plus its share of the calls made over the window;
 * 4. **the wait for a first endpoint**: a call rejected for having waited out its `timeout` waited
 *    exactly that, with no endpoint listed all along; a call is never tried on an endpoint not listed;
 * 5. **nothing hangs**: once the servers answer again and the list is closed, every call has settled;
 * 6. **subsetting**: between changes of the list or the peers, calls go to at most `size + 1` servers
 *    (an aperture of `size` servers' width covers at most one more, partly);
 * 7. **slow start**: over the first half of its window, an endpoint that arrived after the first list
 *    gets no more than about the share of calls its ramping weight is owed (round-robin).
 */
export class BalancerSimulation {
  readonly seed: number;
  readonly #clock: SimClock;
  readonly #options: BalancerOptions & { readonly timeout: number };
  readonly #list$ = new BehaviorSubject<readonly Endpoint[]>([]);
  readonly #servers = new Map<string, Behaviour>();
  readonly #balancer: Balancer;
  readonly #calls: Call[] = [];
  /** When the list was empty, as [from, to) intervals; the last one open while it is. */
  readonly #emptySince: [number, number | undefined][] = [[0, undefined]];
  readonly #retriesAt: number[] = [];
  readonly #callsAt: number[] = [];
  readonly #problems: string[] = [];
  readonly #log: string[] = [];
  #ejected = new Set<string>();
  #ejections = 0;
  #readmissions = 0;
  #waitedOut = 0;
  #rampsChecked = 0;
  readonly #outlier: { readonly maxEjectionPercent: number };
  readonly #budget: {
    readonly percent: number;
    readonly minPerSecond: number;
    readonly windowMs: number;
  };
  /** With subsetting: this client's subset size, and the other clients of the service. */
  readonly #subset:
    { readonly size: number; readonly peers$: BehaviorSubject<readonly Endpoint[]> } | undefined;
  /** With slow start: its options, and when each address was last added to a list that had some. */
  readonly #slowStart: SlowStartOptions | undefined;
  readonly #listedAt = new Map<string, number>();
  /** Endpoints that arrived after the first list: their first calls, and the share they were owed. */
  readonly #ramps = new Map<string, { readonly at: number; calls: number; owed: number }>();
  /** The endpoints tried since the list (or the peers) last changed. */
  #triedSinceChange = new Set<string>();

  constructor(seed: number) {
    this.seed = seed;
    const clock = new SimClock(seed);
    this.#clock = clock;
    this.#outlier = { maxEjectionPercent: clock.pick([10, 34, 50, 100]) };
    this.#budget = {
      percent: clock.pick([0, 20, 50]),
      minPerSecond: clock.pick([0, 1, 10]),
      windowMs: clock.pick([1000, 10_000]),
    };
    this.#subset = clock.chance(0.3)
      ? { size: clock.int(1, 3), peers$: new BehaviorSubject<readonly Endpoint[]>(peers(clock)) }
      : undefined;
    this.#slowStart = clock.chance(0.4)
      ? {
          windowMs: clock.pick([2000, 10_000]),
          aggression: clock.pick([0.5, 1, 2]),
          minWeightPercent: clock.pick([5, 10, 50]),
        }
      : undefined;
    this.#options = {
      strategy: clock.pick(['round-robin', 'random', 'least-outstanding', 'latency'] as const),
      retries: clock.int(0, 3),
      timeout: clock.pick([50, 500, 3000]),
      outlier: {
        consecutiveFailures: clock.int(1, 4),
        baseEjectionMs: clock.pick([100, 500, 2000]),
        maxEjectionMs: clock.pick([2000, 10_000]),
        ...this.#outlier,
      },
      retryBudget: this.#budget,
      ...(this.#slowStart !== undefined && { slowStart: this.#slowStart }),
      ...(this.#subset !== undefined && {
        subset: { size: this.#subset.size, self: SELF, peers$: this.#subset.peers$ },
      }),
      logger: testLogger().logger,
      clock,
    };
    this.#balancer = new Balancer(this.#list$, this.#options);
  }

  async run(): Promise<BalancerRunStats> {
    this.#plan();
    let events = 0;
    while (this.#clock.step()) {
      await new Promise((resolve) => setImmediate(resolve)); // Every microtask runs, as in Node.
      events += 1;
      this.#check();
      if (this.#problems.length > 0 || events > MAX_EVENTS) {
        throw this.#failure(
          this.#problems.join('; ') || `still running after ${MAX_EVENTS} events`,
        );
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    const pending = this.#calls.filter((call) => !call.settled).length;
    if (pending > 0) {
      throw this.#failure(`${pending} call(s) never settled`);
    }
    return {
      calls: this.#calls.length,
      retries: this.#retriesAt.length,
      ejections: this.#ejections,
      readmissions: this.#readmissions,
      waitedOut: this.#waitedOut,
      rampsChecked: this.#rampsChecked,
    };
  }

  /** The list's changes, the servers' moods and the calls, then the servers' recovery and the close. */
  #plan(): void {
    const clock = this.#clock;
    const addresses = Array.from({ length: clock.int(1, 8) }, (_, i) => `10.0.0.${i + 1}:80`);
    for (const address of addresses) {
      this.#servers.set(address, clock.pick(BEHAVIOURS));
    }
    const list = (): void => {
      const listed = addresses.filter(() => clock.chance(0.7));
      this.#note(`list ${listed.join(' ') || '(empty)'}`);
      this.#setList(listed);
    };
    clock.at(clock.int(0, 1000), list);
    for (let t = clock.int(500, 3000); t < RUN_MS - 5000; t += clock.int(500, 5000)) {
      clock.at(t, list);
    }
    for (let t = clock.int(0, 1000); t < RUN_MS - 5000; t += clock.int(100, 3000)) {
      clock.at(t, () => {
        const address = clock.pick(addresses);
        const behaviour = clock.pick(BEHAVIOURS);
        this.#note(`${address} now ${behaviour}`);
        this.#servers.set(address, behaviour);
      });
    }
    for (let t = clock.int(0, 100); t < RUN_MS - 5000; t += clock.int(1, 60)) {
      clock.at(t, () => this.#call());
    }
    const subset = this.#subset;
    if (subset !== undefined) {
      for (let t = clock.int(1000, 8000); t < RUN_MS - 5000; t += clock.int(1000, 8000)) {
        clock.at(t, () => {
          const next = peers(clock);
          this.#note(`peers ${next.map((peer) => peer.address).join(' ')}`);
          this.#triedSinceChange = new Set();
          subset.peers$.next(next);
        });
      }
    }
    // The end: every server answers, every endpoint is listed, calls go on a while, then the close.
    clock.at(RUN_MS - 5000, () => {
      addresses.forEach((address) => this.#servers.set(address, 'answers'));
      this.#setList(addresses);
    });
    clock.at(RUN_MS, () => {
      this.#note('close');
      this.#balancer.close();
    });
  }

  #setList(addresses: readonly string[]): void {
    const now = this.#clock.now();
    const open = this.#emptySince.at(-1);
    if (addresses.length === 0 && open?.[1] !== undefined) {
      this.#emptySince.push([now, undefined]);
    } else if (addresses.length > 0 && open !== undefined && open[1] === undefined) {
      open[1] = now;
    }
    this.#triedSinceChange = new Set();
    this.#trackArrivals(addresses);
    this.#list$.next(addresses.map((address) => ({ service: 'sim', address })));
  }

  #call(): void {
    const clock = this.#clock;
    const call: Call = { at: clock.now(), attempts: [], settled: false };
    this.#calls.push(call);
    this.#callsAt.push(call.at);
    const deadline = new AbortController();
    const cancel = clock.schedule(clock.pick([200, 1000, 5000]), () =>
      deadline.abort(new Error('deadline')),
    );
    void this.#balancer
      .call((endpoint, signal) => this.#serve(call, endpoint, signal), { signal: deadline.signal })
      .then(
        () => undefined,
        (error: unknown) => {
          call.error = error;
        },
      )
      .finally(() => {
        call.settled = true;
        cancel();
        this.#settled(call);
      });
  }

  /** A simulated server handles one attempt of `call`. */
  #serve(call: Call, endpoint: Endpoint, signal: AbortSignal): Promise<string> {
    const clock = this.#clock;
    const { address } = endpoint;
    if (call.attempts.length > 0) {
      this.#retriesAt.push(clock.now());
      this.#checkBudget();
    }
    if (call.attempts.length === 0) {
      this.#owe(address);
    }
    call.attempts.push({ at: clock.now(), address });
    this.#checkSubset(address);
    if (!this.#list$.value.some((listed) => listed.address === address)) {
      this.#problems.push(`a call was tried on ${address}, which is not listed`);
    }
    const trial = this.#balancer.stats().find((s) => s.endpoint.address === address)?.probation;
    const behaviour = this.#servers.get(address) ?? 'refuses';
    return new Promise<string>((resolve, reject) => {
      const settle = (outcome: () => void): void => {
        signal.removeEventListener('abort', aborted);
        outcome();
      };
      const aborted = (): void => {
        cancel();
        settle(() => reject(signal.reason as Error));
      };
      signal.addEventListener('abort', aborted, { once: true });
      const after = (ms: number, outcome: () => void): (() => void) =>
        clock.schedule(ms, () => settle(outcome));
      const cancel =
        behaviour === 'answers'
          ? after(clock.int(1, 20), () => {
              resolve('ok');
              if (trial === true) {
                queueMicrotask(() => this.#checkReadmitted(address));
              }
            })
          : behaviour === 'slow'
            ? after(clock.int(100, 800), () => resolve('ok'))
            : behaviour === 'fails'
              ? after(clock.int(1, 20), () => reject(new Error('HTTP 500')))
              : behaviour === 'refuses'
                ? after(clock.int(0, 2), () => {
                    reject(
                      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
                    );
                    const list = this.#list$.value;
                    queueMicrotask(() => this.#checkEjected(address, list));
                  })
                : () => undefined; // hangs: until its deadline aborts it
    });
  }

  /**
   * Invariant 1, the other way: a refused connection ejects its endpoint at once, unless the share of
   * the list is out already (checked while the list is the one the call was refused under).
   */
  #checkEjected(address: string, list: readonly Endpoint[]): void {
    if (this.#list$.value !== list) {
      return;
    }
    // The balancer's list: this client's subset of the list, with subsetting.
    const stats = this.#balancer.stats();
    const others = stats.filter((s) => s.ejected && s.endpoint.address !== address).length;
    const allowed = Math.max(
      1,
      Math.floor((stats.length * this.#outlier.maxEjectionPercent) / 100),
    );
    const ejected = stats.find((s) => s.endpoint.address === address)?.ejected;
    if (ejected === false && others < allowed) {
      this.#problems.push(
        `${address} refused a connection and was not ejected, with ${others} of ${stats.length} out where ${allowed} may be`,
      );
    }
  }

  /**
   * Invariant 6, with subsetting: between changes of the list or the peers, calls go to this client's
   * subset only, whose aperture covers at most `size + 1` servers.
   */
  #checkSubset(address: string): void {
    const subset = this.#subset;
    if (subset === undefined) {
      return;
    }
    this.#triedSinceChange.add(address);
    if (this.#triedSinceChange.size > subset.size + 1) {
      this.#problems.push(
        `calls went to ${[...this.#triedSinceChange].join(', ')} with the same list and peers, where a subset of ${subset.size} has at most ${subset.size + 1}`,
      );
    }
  }

  /** Invariant 2: a trial call that succeeded readmitted its endpoint. */
  #checkReadmitted(address: string): void {
    const stats = this.#balancer.stats().find((s) => s.endpoint.address === address);
    if (stats?.ejected === true) {
      this.#problems.push(`${address} answered its trial call and is still ejected`);
    }
  }

  /** Invariant 3: the retries of the window before the latest are within the budget. */
  #checkBudget(): void {
    const { percent, minPerSecond, windowMs } = this.#budget;
    const now = this.#clock.now();
    const slice = windowMs / 10;
    // The budget counts whole slices: retries over the last window less a slice are surely counted,
    // and no call older than a whole window is.
    const retries = this.#retriesAt.filter((at) => at > now - (windowMs - slice)).length;
    const calls = this.#callsAt.filter((at) => at > now - windowMs - slice).length;
    const allowed = (minPerSecond * windowMs) / 1000 + (calls * percent) / 100;
    if (retries > allowed + 1e-9) {
      this.#problems.push(
        `${retries} retries within ${windowMs - slice}ms, where the budget allows ${allowed.toFixed(2)} (${calls} calls)`,
      );
    }
  }

  /** Invariant 4, for a call that settled: a wait timed out only with no endpoint all along. */
  #settled(call: Call): void {
    const error = call.error;
    if (!isNoEndpointError(error) || error.reason !== 'timeout') {
      return;
    }
    this.#waitedOut += 1;
    const { timeout } = this.#options;
    const waited = error.waitedMs;
    if (waited !== timeout) {
      this.#problems.push(
        `a call waited ${waited}ms for an endpoint, where its timeout is ${timeout}ms`,
      );
    }
    const from = call.at;
    const to = call.at + timeout;
    const emptyThroughout = this.#emptySince.some(
      ([since, until]) => since <= from && (until === undefined || until >= to),
    );
    if (call.attempts.length === 0 && !emptyThroughout) {
      this.#problems.push(`a call waited out ${timeout}ms while an endpoint was listed`);
    }
  }

  /**
   * Slow start: an address added to a list after one that had endpoints arrives now, and ramps (with
   * round-robin, and no subset: where the share it is owed is known); one that leaves is checked.
   */
  #trackArrivals(addresses: readonly string[]): void {
    const now = this.#clock.now();
    const before = new Set(this.#list$.value.map((endpoint) => endpoint.address));
    const known = this.#listedAt.size > 0;
    for (const address of [...this.#ramps.keys()]) {
      if (!addresses.includes(address)) {
        this.#checkRamp(address);
      }
    }
    for (const address of addresses) {
      if (!before.has(address)) {
        this.#listedAt.set(address, now);
        const tracked =
          known && this.#options.strategy === 'round-robin' && this.#subset === undefined;
        if (tracked && this.#slowStart !== undefined) {
          this.#ramps.set(address, { at: now, calls: 0, owed: 0 });
        }
      }
    }
  }

  /**
   * A call's first attempt went to `address`: each ramping endpoint in the first half of its window
   * that could be picked is owed its weight's share of it (the others' weights taken at their lowest:
   * as if each had arrived when last listed), and counts it if it was picked.
   */
  #owe(address: string): void {
    const slowStart = this.#slowStart;
    if (slowStart === undefined || this.#ramps.size === 0) {
      return;
    }
    const now = this.#clock.now();
    const eligible = this.#balancer
      .stats()
      .filter((s) => !s.ejected)
      .map((s) => s.endpoint.address);
    // Envoy's formula, written again here: the oracle must not share the code it checks.
    const { windowMs, aggression = 1, minWeightPercent = 10 } = slowStart;
    const weight = (at: string): number => {
      const elapsed = now - (this.#listedAt.get(at) ?? now);
      return elapsed >= windowMs
        ? 1
        : Math.max(minWeightPercent / 100, (elapsed / windowMs) ** (1 / aggression));
    };
    const total = eligible.reduce((sum, at) => sum + weight(at), 0);
    for (const [ramping, ramp] of this.#ramps) {
      if (now - ramp.at > slowStart.windowMs / 2) {
        this.#checkRamp(ramping);
      } else if (eligible.includes(ramping) && total > 0) {
        ramp.owed += weight(ramping) / total;
        ramp.calls += address === ramping ? 1 : 0;
      }
    }
  }

  /**
   * Invariant 7, slow start: over the first half of its window, a new endpoint gets no more than about
   * the share its ramping weight is owed (twice it, and three calls, for round-robin's turns).
   */
  #checkRamp(address: string): void {
    const ramp = this.#ramps.get(address);
    this.#ramps.delete(address);
    if (ramp !== undefined && ramp.calls > 2 * ramp.owed + 3) {
      this.#problems.push(
        `${address} got ${ramp.calls} first calls in the first half of its slow start, owed ${ramp.owed.toFixed(1)}`,
      );
    }
    if (ramp !== undefined) {
      this.#rampsChecked += ramp.calls + ramp.owed > 3 ? 1 : 0;
    }
  }

  /** Invariant 1, after every event: an ejection never takes more than the share of the list out. */
  #check(): void {
    const stats = this.#balancer.stats();
    const listed = stats.length; // The balancer's list: the subset, with subsetting.
    const ejected = new Set(stats.filter((s) => s.ejected).map((s) => s.endpoint.address));
    const newly = [...ejected].filter((address) => !this.#ejected.has(address));
    this.#readmissions += [...this.#ejected].filter((address) => !ejected.has(address)).length;
    this.#ejections += newly.length;
    const allowed = Math.max(1, Math.floor((listed * this.#outlier.maxEjectionPercent) / 100));
    if (newly.length > 0 && ejected.size > allowed) {
      this.#problems.push(
        `${[...newly].join(', ')} ejected with ${ejected.size} of ${listed} out, where at most ${allowed} may be`,
      );
    }
    this.#ejected = ejected;
  }

  #note(what: string): void {
    this.#log.push(`${this.#clock.now()}ms: ${what}`);
    if (this.#log.length > 30) {
      this.#log.shift();
    }
  }

  #failure(what: string): Error {
    const { strategy, retries, timeout, outlier } = this.#options;
    return new Error(
      `balancer simulation seed ${this.seed} failed at ${this.#clock.now()}ms: ${what}\n` +
        `  (${String(strategy)}, retries ${retries}, wait ${timeout}ms, outlier ${JSON.stringify(outlier)}, budget ${JSON.stringify(this.#budget)})\n` +
        `  replay it: GSR_SIM_SEED=${this.seed} npx jest spec/sim/balancer\n` +
        `  the last operations:\n    ${this.#log.join('\n    ')}`,
    );
  }
}
