import * as grpc from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import { grpcServiceConfig } from '../../lib/grpc/grpcServiceConfig';
import { installGrpcResolver } from '../../lib/grpc/installGrpcResolver';
import { encodeOrcaReport, ORCA_HEADER } from '../../lib/orca/orcaCodec';
import type { Registry } from '../../lib/registry/Registry';
import { eventually, nextMatching } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';
import { startWhoAmIServer, type WhoAmIServer, whoAmI } from '../support/whoAmIServer';

/** A58's settings for both sides: no blackout, new weights every 100 ms. */
const WRR = { blackoutPeriodMs: 0, weightUpdatePeriodMs: 100 };

/** One WhoAmI call to `address` on its own channel: the answer's name and its trailer's report. */
function callReporting(
  clients: Map<string, grpc.Client>,
  address: string,
): Promise<{ name: string; report: Buffer | undefined }> {
  let client = clients.get(address);
  if (client === undefined) {
    client = new grpc.Client(address, grpc.credentials.createInsecure());
    clients.set(address, client);
  }
  const toJson = (value: unknown) => Buffer.from(JSON.stringify(value));
  const fromJson = (buffer: Buffer) => JSON.parse(buffer.toString()) as { name: string };
  return new Promise((resolve, reject) => {
    let name: string | undefined;
    const call = client.makeUnaryRequest(
      '/gsr.test.Echo/WhoAmI',
      toJson,
      fromJson,
      {},
      { deadline: Date.now() + 5000 },
      (error, response) => {
        if (error !== null || response === undefined) {
          reject(error ?? new Error('no response'));
        } else {
          name = response.name;
        }
      },
    );
    call.on('status', (status: grpc.StatusObject) => {
      if (name !== undefined) {
        const [report] = status.metadata.get(ORCA_HEADER);
        resolve({ name, report: Buffer.isBuffer(report) ? report : undefined });
      }
    });
  });
}

describe("one weight for everyone: gsr's Balancer and grpc-js's weighted_round_robin, fed by the same servers", () => {
  const etcd = useEtcd();
  let registry: Registry;
  let servers: WhoAmIServer[] = [];
  let registrations: Subscription[] = [];
  const clients = new Map<string, grpc.Client>();

  beforeEach(async () => {
    registry = (await connectTest(etcd.endpoints)).registry;
    // light answers in 1 ms of work, heavy in 4: at the same qps, heavy's utilization is 4 times.
    servers = await Promise.all([startWhoAmIServer('light'), startWhoAmIServer('heavy')]);
    (servers[0] as WhoAmIServer).report = encodeOrcaReport({
      qps: 100,
      applicationUtilization: 0.1,
    });
    (servers[1] as WhoAmIServer).report = encodeOrcaReport({
      qps: 100,
      applicationUtilization: 0.4,
    });
    registrations = servers.map((server) =>
      registry.register({ service: 'wrr', address: server.address }).subscribe(),
    );
    await nextMatching(registry.endpoints$('wrr'), (list) => list.length === 2);
  });
  afterEach(() => {
    clients.forEach((client) => client.close());
    clients.clear();
    registrations.forEach((registration) => registration.unsubscribe());
    servers.forEach((server) => server.kill());
  });

  /** The share of `n` calls that `call` sent to light. */
  async function lightShare(call: () => Promise<string>, n: number): Promise<number> {
    let light = 0;
    for (let i = 0; i < n; i++) {
      light += (await call()) === 'light' ? 1 : 0;
    }
    return light / n;
  }

  it('converge to shares within 5 points of each other (both 4:1, from qps over utilization)', async () => {
    const { target } = installGrpcResolver(registry, { grpc });
    const channel = new grpc.Client(target('wrr'), grpc.credentials.createInsecure(), {
      'grpc.service_config': grpcServiceConfig({ weightedRoundRobin: WRR }),
    });
    clients.set('channel', channel);
    const balancer = new Balancer(registry.endpoints$('wrr'), {
      strategy: 'weighted-round-robin',
      weightedRoundRobin: WRR,
    });
    const viaGsr = () =>
      balancer.call(async (endpoint, _signal, load) => {
        const { name, report } = await callReporting(clients, endpoint.address);
        if (report !== undefined) {
          load(report);
        }
        return name;
      });
    const viaGrpc = () => whoAmI(channel);
    // Until both took up the weights (each rebuilds its schedule every 100 ms).
    await eventually(async () => (await lightShare(viaGrpc, 50)) > 0.7, 20_000, 'grpc-js weighing');
    await eventually(async () => (await lightShare(viaGsr, 50)) > 0.7, 20_000, 'gsr weighing');
    const grpcShare = await lightShare(viaGrpc, 400);
    const gsrShare = await lightShare(viaGsr, 400);
    expect(grpcShare).toBeGreaterThan(0.75);
    expect(Math.abs(gsrShare - grpcShare)).toBeLessThanOrEqual(0.05);
    balancer.close();
  });
});
