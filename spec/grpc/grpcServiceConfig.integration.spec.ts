import * as grpc from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import { grpcServiceConfig } from '../../lib/grpc/grpcServiceConfig';
import { installGrpcResolver } from '../../lib/grpc/installGrpcResolver';
import type { Registry } from '../../lib/registry/Registry';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, nextMatching } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { startWhoAmIServer, type WhoAmIServer, whoAmI } from '../support/whoAmIServer';

describe('gRPC channels on gsr:///<service>', () => {
  let etcd: EtcdCluster;
  let registry: Registry;
  let servers: WhoAmIServer[];
  let registrations: Subscription[];
  let client: grpc.Client | undefined;

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
  });
  beforeEach(async () => {
    registry = (await connectTest(etcd.endpoints, { leaseSeconds: 30 })).registry;
    servers = await Promise.all([startWhoAmIServer('one'), startWhoAmIServer('two')]);
    registrations = servers.map((s) =>
      registry.register({ service: 'who', address: s.address }).subscribe(),
    );
    await nextMatching(registry.endpoints$('who'), (list) => list.length === 2);
  });
  afterEach(async () => {
    client?.close();
    registrations.forEach((r) => r.unsubscribe());
    servers.forEach((s) => s.kill());
    await closeTestRegistries();
  });
  afterAll(async () => {
    await etcd.close();
  });

  it('round_robin skips a server that was killed at once, though etcd still lists it', async () => {
    const { target } = installGrpcResolver(registry, { grpc });
    client = new grpc.Client(target('who'), grpc.credentials.createInsecure(), {
      'grpc.service_config': grpcServiceConfig(),
    });
    const warm = new Set<string>();
    await eventually(
      async () => {
        warm.add(await whoAmI(client as grpc.Client, { deadlineMs: 2000 }));
        return warm.size === 2;
      },
      5000,
      'both servers connected',
    );
    (servers[0] as WhoAmIServer).kill(); // a crash: its key stays until its lease expires
    const after: string[] = [];
    const failed: unknown[] = [];
    for (let i = 0; i < 20; i++) {
      await whoAmI(client, { deadlineMs: 2000 }).then(
        (name) => after.push(name),
        (error: unknown) => failed.push(error),
      );
    }
    // At most the call in flight when it died: the others went to the live server at once, where
    // waiting for the dead one's lease to expire would have missed their 2 s deadlines.
    expect(failed.length).toBeLessThanOrEqual(1);
    expect(after.slice(-15).every((name) => name === 'two')).toBe(true);
    expect((await registry.endpoints('who')).length).toBe(2);
  });

  it("outlier detection ejects a server that answers but fails, with grpcServiceConfig's config", async () => {
    const { target } = installGrpcResolver(registry, { grpc });
    client = new grpc.Client(target('who'), grpc.credentials.createInsecure(), {
      'grpc.service_config': grpcServiceConfig({
        outlierDetection: { intervalMs: 500, requestVolume: 5, baseEjectionMs: 30_000 },
      }),
    });
    (servers[0] as WhoAmIServer).failing = true;
    const outcomes: string[] = [];
    await eventually(
      async () => {
        for (let i = 0; i < 10; i++) {
          outcomes.push(
            await whoAmI(client as grpc.Client, { deadlineMs: 2000 }).catch(() => 'failed'),
          );
        }
        return outcomes.slice(-10).every((outcome) => outcome === 'two');
      },
      10_000,
      'the failing server ejected',
    );
    const servedBefore = (servers[0] as WhoAmIServer).served;
    for (let i = 0; i < 20; i++) {
      await whoAmI(client, { deadlineMs: 2000 });
    }
    expect((servers[0] as WhoAmIServer).served).toBe(servedBefore);
  });

  it('writes durations as grpc-js reads them', () => {
    expect(JSON.parse(grpcServiceConfig({ outlierDetection: { intervalMs: 1500 } }))).toMatchObject(
      {
        loadBalancingConfig: [
          {
            outlier_detection: {
              interval: { seconds: 1, nanos: 500_000_000 },
              child_policy: [{ round_robin: {} }],
            },
          },
        ],
      },
    );
    expect(grpcServiceConfig()).toBe('{"loadBalancingConfig":[{"round_robin":{}}]}');
  });
});
