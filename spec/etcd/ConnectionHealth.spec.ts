import type { Health } from '../../lib/etcd/Health';
import {
  ConnectionHealth,
  LOSS_CONFIRM_MS,
  SILENCE_LOSS_MIN_MS,
} from '../../lib/etcd/ConnectionHealth';
import { unmeasuredLag } from '../../lib/etcd/EventLoopLag';
import { SimClock } from '../sim/SimClock';
import { testLogger } from '../support/testLogger';

const late = new Error('4 DEADLINE_EXCEEDED: Deadline exceeded after 1.001s');
const dropped = new Error('14 UNAVAILABLE: Connection dropped');

/** A health on virtual time, connected, with what it says and how often it asked etcd itself. */
function setUp(options: { lagMs?: number; probeAnswers?: boolean } = {}) {
  const clock = new SimClock(1);
  const { logger, lines } = testLogger();
  const lag = { recentMs: () => options.lagMs ?? 0, close: () => undefined };
  const health = new ConnectionHealth(logger, clock, { lag });
  const states: Health[] = [];
  health.state$.subscribe((state) => states.push(state));
  let probes = 0;
  health.probeWith(() => {
    probes += 1;
    if (options.probeAnswers === true) {
      clock.at(5, () => health.up());
    }
    return Promise.resolve();
  });
  health.up();
  /** Runs virtual time for `ms`, letting promises settle between timers. */
  const run = async (ms: number): Promise<void> => {
    const until = clock.now() + ms;
    await flushed();
    while ((clock.nextTime() ?? Infinity) <= until) {
      clock.step();
      await flushed();
    }
    clock.advanceTo(until);
  };
  const said = (level: string, text: string): string[] =>
    lines.filter((line) => line.startsWith(`${level}:`) && line.includes(text));
  return { clock, health, states, run, said, lines, probes: () => probes };
}

/** winston's stream transport hands lines over asynchronously. */
const flushed = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ConnectionHealth', () => {
  it('calls a request that missed its deadline late, not lost: at debug, with the event loop’s lag', async () => {
    const { health, run, states, said } = setUp({ lagMs: 900 });
    health.late(late);
    await run(2000);
    health.up(); // The retry was answered.
    await run(SILENCE_LOSS_MIN_MS * 2);
    await flushed();
    expect(states.map((state) => state.connected)).toEqual([false, true]);
    expect(said('warn', 'lost')).toEqual([]);
    expect(said('debug', 'etcd answered late (4 DEADLINE_EXCEEDED')).toHaveLength(1);
    expect(said('debug', "while this process's event loop lagged 900ms")).toHaveLength(1);
  });

  it('says "lost" when requests keep missing their deadline and nothing answers for the bound', async () => {
    const { health, run, states, said, probes } = setUp();
    health.late(late);
    await run(SILENCE_LOSS_MIN_MS - 1);
    health.late(late);
    expect(health.connected).toBe(true);
    await run(1);
    expect(health.connected).toBe(false);
    expect(probes()).toBe(2); // It asked etcd itself meanwhile, at once and 2 s later.
    expect(states.at(-1)?.cause).toBe(late);
    await flushed();
    expect(
      said('warn', 'connection to etcd lost (no answer for 3000ms: 2 requests missed'),
    ).toHaveLength(1);
  });

  it('waits three request deadlines of silence when the deadline is long', () => {
    const clock = new SimClock(1);
    const health = new ConnectionHealth(testLogger().logger, clock, {
      lag: unmeasuredLag,
      requestTimeoutMs: 2500,
    });
    health.up();
    health.late(late);
    clock.advanceTo(7499);
    while ((clock.nextTime() ?? Infinity) <= 7499) {
      clock.step();
    }
    expect(health.connected).toBe(true);
    clock.advanceTo(7500);
    while ((clock.nextTime() ?? Infinity) <= 7500) {
      clock.step();
    }
    expect(health.connected).toBe(false);
    health.close();
  });

  it('asks etcd itself when a loss is suspected, and an answer settles it', async () => {
    const { health, run, said, probes } = setUp({ probeAnswers: true });
    health.late(late);
    await run(SILENCE_LOSS_MIN_MS * 3);
    expect(health.connected).toBe(true);
    expect(probes()).toBe(1);
    await flushed();
    expect(said('warn', '')).toEqual([]);
  });

  it('takes a failed connection for lost only if nothing answers within a second', async () => {
    const { health, run, states, said } = setUp();
    health.down(dropped); // grpc-js dropped the connection...
    await run(LOSS_CONFIRM_MS / 2);
    health.up(); // ...and the re-watch was answered on a new one.
    await run(LOSS_CONFIRM_MS * 5);
    expect(health.connected).toBe(true);
    health.down(dropped);
    health.down(dropped); // Every part that notices says so; one warning.
    await run(LOSS_CONFIRM_MS);
    expect(health.connected).toBe(false);
    await run(3000);
    health.up();
    await flushed();
    expect(states.map((state) => state.connected)).toEqual([false, true, false, true]);
    expect(
      said('warn', 'connection to etcd lost (14 UNAVAILABLE: Connection dropped)'),
    ).toHaveLength(1);
    // The outage is dated from the failure, not from the verdict a second later.
    expect(said('warn', 'connection to etcd restored after 4000ms')).toHaveLength(1);
  });

  it('lets a failure after late answers shorten the wait, never lengthen it', async () => {
    const { health, run } = setUp();
    health.late(late);
    await run(SILENCE_LOSS_MIN_MS - 200);
    health.down(dropped);
    await run(200);
    expect(health.connected).toBe(false);
  });

  it('says late answers that go on as one warning a minute, with the p99 latency and the lag', async () => {
    const { health, run, said } = setUp({ lagMs: 12 });
    for (let second = 0; second < 130; second += 1) {
      health.requestEnded(second % 10 === 0 ? 1500 : 20);
      if (second % 3 === 0) {
        health.late(late);
      }
      await run(1000);
      health.up();
    }
    await flushed();
    const slow = said('warn', 'etcd is slow:');
    expect(slow).toHaveLength(2); // At 10 s and at 70 s; 130 s is a minute after the second.
    expect(slow[0]).toMatch(
      /etcd is slow: 5 requests missed their deadline in the last 12s; p99 request latency over the last minute ~\d+ms; this process's event loop lagged up to 12ms/,
    );
    expect(said('warn', 'lost')).toEqual([]);
    // Debug lines: at most one a second.
    expect(said('debug', 'etcd answered late').length).toBeLessThanOrEqual(44);
  });

  it('says nothing of failures before etcd first answered (connect() reports them), or after close()', () => {
    const clock = new SimClock(1);
    const { logger, lines } = testLogger();
    const health = new ConnectionHealth(logger, clock, { lag: unmeasuredLag });
    health.down(dropped);
    health.late(late);
    clock.advanceTo(60_000);
    while (clock.step()) {
      // Runs whatever was scheduled.
    }
    expect(health.connected).toBe(false);
    health.up();
    health.close();
    health.down(dropped);
    expect(clock.nextTime()).toBeUndefined();
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([]);
  });
});
