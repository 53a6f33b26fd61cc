import { BehaviorSubject } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { encodeOrcaReport } from '../../lib/orca/orcaCodec';
import { SimClock } from '../sim/SimClock';
import { testLogger } from '../support/testLogger';

const ep = (address: string): Endpoint => ({ service: 'api', address });

function setUp(utilization: Record<string, number | undefined>) {
  const clock = new SimClock(7);
  const list$ = new BehaviorSubject<readonly Endpoint[]>(Object.keys(utilization).map(ep));
  const { logger, lines } = testLogger();
  const balancer = new Balancer(list$, { strategy: 'weighted-round-robin', clock, logger });
  /** `n` picks, each answered with its server's load report: picks per address. */
  const run = (n: number): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const endpoint = balancer.pick() as Endpoint;
      counts[endpoint.address] = (counts[endpoint.address] ?? 0) + 1;
      const load = { qps: 100, applicationUtilization: utilization[endpoint.address] };
      balancer.report(endpoint, { ok: true, load: i % 2 === 0 ? load : encodeOrcaReport(load) });
    }
    return counts;
  };
  return { clock, balancer, run, lines };
}

describe("Balancer strategy 'weighted-round-robin' (gRFC A58, on the Clock)", () => {
  it('spreads calls evenly during the blackout, then by qps over utilization', () => {
    const { clock, balancer, run } = setUp({ a: 0.25, b: 0.5, c: 0.5 });
    expect(run(300)).toEqual({ a: 100, b: 100, c: 100 });
    clock.advanceTo(clock.now() + 10_000); // The blackout ends; the next pick rebuilds the schedule.
    expect(run(400)).toEqual({ a: 200, b: 100, c: 100 });
    balancer.close();
  });

  it('gives an endpoint without a weight the mean of those with one', () => {
    // c's reports have no utilization: they weigh nothing.
    const { clock, balancer, run } = setUp({ a: 0.25, b: 0.5, c: undefined });
    run(30);
    clock.advanceTo(clock.now() + 10_000);
    // a 400, b 200, c the mean: 300.
    expect(run(900)).toEqual({ a: 400, b: 200, c: 300 });
    balancer.close();
  });

  it('forgets weights after 3 min without a report: equal turns again', () => {
    const { clock, balancer, run } = setUp({ a: 0.25, b: 0.5 });
    run(30);
    clock.advanceTo(clock.now() + 10_000);
    expect(run(300)).toEqual({ a: 200, b: 100 });
    clock.advanceTo(clock.now() + 180_000);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const address = balancer.pick()?.address ?? 'none';
      counts[address] = (counts[address] ?? 0) + 1;
    }
    expect(counts).toEqual({ a: 150, b: 150 });
    balancer.close();
  });

  it('reads a report that is not the proto as none, with one log line', () => {
    const { balancer, lines } = setUp({ a: 0.5 });
    const endpoint = balancer.pick() as Endpoint;
    balancer.report(endpoint, { ok: true, load: Uint8Array.of(0x0a, 0xff, 0xff) });
    balancer.report(endpoint, { ok: true, load: Uint8Array.of(0x0a, 0xff, 0xff) });
    expect(lines.filter((line) => line.includes('not an OrcaLoadReport'))).toHaveLength(1);
    balancer.close();
  });
});
