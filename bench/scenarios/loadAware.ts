import { BehaviorSubject } from 'rxjs';
import { Agent, fetch } from 'undici';
import winston from 'winston';
import { Balancer, type Endpoint, type Strategy } from '../../lib';
import { OrcaRecorder } from '../../lib/orca/OrcaRecorder';
import { gsrInterceptor } from '../../lib/undici/gsrInterceptor';
import { SimClock } from '../../spec/sim/SimClock';
import { connectBench } from '../connectBench';
import { startServer } from '../httpServers';
import type { Measurement, Scenario, Side } from '../Scenario';
import { quantile, since } from '../stats';

const quiet = winston.createLogger({ silent: true });

/** Service time of each server, ms: the third costs twice the others per request. */
const COST_MS = [2, 2, 4];
/** Requests a second the three can take together, and the load offered: 70 % of it. */
const CAPACITY = COST_MS.reduce((sum, ms) => sum + 1000 / ms, 0);
const OFFERED = 0.7 * CAPACITY;
/** Virtual seconds simulated, and the first ones left out (weights settle: A58's blackout is 10 s). */
const SECONDS = 60;
const WARM_UP_SECONDS = 20;
/** The CI's smoke run: shorter, past the blackout still. */
const QUICK_SECONDS = 30;
const QUICK_WARM_UP_SECONDS = 20;

/**
 * Three servers, one costing twice the CPU per request, offered 70 % of what they can take together,
 * in virtual time (each server one worker, a FIFO queue, Poisson arrivals): the real Balancer picks on
 * a simulated clock, and each server reports its load as an `OrcaRecorder` would (its busy share over
 * the last second as application utilization, its requests per second). On one machine real servers
 * would share its two cores and measure the machine, not the policy.
 */
function simulate(
  strategy: Strategy<unknown>,
  quick: boolean,
): Promise<{ latencies: number[]; busy: number[] }> {
  const clock = new SimClock(42);
  const list = COST_MS.map((_, i): Endpoint => ({ service: 'api', address: `10.0.0.${i}:80` }));
  const balancer = new Balancer(new BehaviorSubject<readonly Endpoint[]>(list), {
    strategy,
    clock,
    logger: quiet,
    outlier: false,
  });
  const recorders = COST_MS.map(
    () => new OrcaRecorder({ clock, cpuUsage: () => ({ user: 0, system: 0 }) }),
  );
  const freeAt = COST_MS.map(() => 0);
  /** Each server's busy intervals of the last second, for its utilization. */
  const busySpans: [number, number][][] = COST_MS.map(() => []);
  const busyMs = COST_MS.map(() => 0);
  const latencies: number[] = [];
  const end = (quick ? QUICK_SECONDS : SECONDS) * 1000;
  const warm = (quick ? QUICK_WARM_UP_SECONDS : WARM_UP_SECONDS) * 1000;
  const arrive = (): void => {
    const arrived = clock.now();
    if (arrived >= end) {
      return;
    }
    void balancer.call(
      (endpoint, _signal, load) =>
        new Promise<void>((resolve) => {
          const at = list.indexOf(endpoint);
          const cost = COST_MS[at] as number;
          const start = Math.max(arrived, freeAt[at] as number);
          const done = start + cost;
          freeAt[at] = done;
          (busySpans[at] as [number, number][]).push([start, done]);
          if (arrived >= warm) {
            busyMs[at] = (busyMs[at] as number) + cost;
          }
          clock.at(done - clock.now(), () => {
            const recorder = recorders[at] as OrcaRecorder;
            const spans = (busySpans[at] as [number, number][]).filter(
              ([, to]) => to > done - 1000,
            );
            busySpans[at] = spans;
            const busy = spans.reduce(
              (sum, [from, to]) => sum + to - Math.max(from, done - 1000),
              0,
            );
            recorder.setApplicationUtilization(Math.min(1, busy / 1000));
            recorder.count(true);
            load(recorder.report());
            if (arrived >= warm) {
              latencies.push(done - arrived);
            }
            resolve();
          });
        }),
    );
    clock.at(-Math.log(1 - clock.random()) * (1000 / OFFERED), arrive);
  };
  clock.at(0, arrive);
  return (async () => {
    // Until the last call is answered (the recorders' sampling timers would run for ever).
    while ((clock.nextTime() ?? Infinity) < end + 10_000 && clock.step()) {
      // The promise callbacks the event set off (a call's bookkeeping: calls in flight, latency) run
      // before the next event, as they would in real time.
      for (let i = 0; i < 4; i++) {
        await Promise.resolve();
      }
    }
    balancer.close();
    recorders.forEach((recorder) => recorder.close());
    return { latencies, busy: busyMs.map((ms) => ms / (end - warm)) };
  })();
}

/** What one strategy made of it: p99 latency, and the busiest server's utilization over the idlest's. */
async function measure(
  strategy: Strategy<unknown>,
  quick: boolean,
): Promise<{ p99: number; spread: number }> {
  const { latencies, busy } = await simulate(strategy, quick);
  return {
    p99: quantile(latencies, 0.99),
    spread: Math.max(...busy) / Math.min(...busy),
  };
}

export const loadAware: Scenario = {
  name: 'load-aware',
  title: `3 servers, one 2x the cost, at 70 % of capacity (virtual time): weighted round robin vs latency (P2C, peak EWMA)`,
  metrics: [
    { key: 'p99', label: 'p99 latency', unit: 'ms', reduce: 'median', maxRatio: 1 },
    {
      key: 'spread',
      label: 'utilization, busiest / idlest x100',
      unit: 'count',
      reduce: 'median',
      maxValue: 125,
    },
  ],
  repetitions: () => 1,
  run: async (context, side: Side): Promise<Measurement> => {
    const quick = context.sizes.repetitions === 1;
    const { p99, spread } = await measure(
      side === 'gsr' ? 'weighted-round-robin' : 'latency',
      quick,
    );
    if (side === 'raw') {
      const roundRobin = await measure('round-robin', quick);
      roundRobinNote = `round-robin: p99 ${roundRobin.p99.toFixed(1)} ms, utilization busiest / idlest ${roundRobin.spread.toFixed(2)} (the costly server gets a third of the calls: more than it can take)`;
    }
    return { p99, spread: Math.round(spread * 100) };
  },
  notes: () => ['raw column: the latency strategy', roundRobinNote],
};

/** Round-robin's figures for the same load, made with the raw side's run. */
let roundRobinNote = '';

/**
 * gsr's undici interceptor against a bare undici fetch, one request at a time to one server: what
 * discovery and balancing add to a request made by name.
 */
export const fetchInterceptor: Scenario = {
  name: 'fetch',
  title: "Overhead: fetch through gsr's undici interceptor against a bare fetch",
  metrics: [{ key: 'fetch', label: 'one request, p50', unit: 'ms', reduce: 'p50', maxRatio: 1.05 }],
  repetitions: (sizes) => Math.min(sizes.repetitions, 5),
  run: async (context, side): Promise<Measurement> => {
    const server = await startServer('only', 0);
    const prefix = `/bench-fetch-${Date.now()}/`;
    const registry = await connectBench(context, prefix);
    const registration = registry.register({ service: 'svc', address: server.address }).subscribe();
    const interceptor = gsrInterceptor(registry, { balancer: { logger: quiet } });
    const agent = new Agent();
    const dispatcher = side === 'gsr' ? agent.compose(interceptor) : agent;
    const url = side === 'gsr' ? 'http://svc/' : `http://${server.address}/`;
    const request = async (): Promise<void> => {
      await (await fetch(url, { dispatcher })).text();
    };
    const calls = context.sizes.repetitions === 1 ? 50 : 2000;
    for (let i = 0; i < 50; i++) {
      await request(); // warm: the list is known and the connection open, as they would be
    }
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const started = performance.now();
      await request();
      times.push(since(started));
    }
    await interceptor.close();
    await agent.close();
    registration.unsubscribe();
    await registry.close();
    await server.kill();
    return { fetch: times };
  },
};
