import { PassThrough } from 'node:stream';
import { Etcd3 } from 'etcd3';
import { createLogger } from '../../lib/logging/createLogger';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';

describe('recovery after etcd comes back', () => {
  it('takes seconds, not the minutes of gRPC’s default reconnect backoff', async () => {
    const etcd = await EtcdCluster.start();
    try {
      const { registry, prefix } = await connectTest(etcd.endpoints, {
        leaseSeconds: 30,
        requestTimeoutSeconds: 0.5,
      });
      const health = record(registry.health$);
      const stream = record(registry.endpoints$('svc'));
      await eventually(() => stream.values.length === 1);

      await etcd.members[0]?.kill();
      // A registration asked for during the outage, and a watch that keeps retrying.
      const pending = record(registry.register({ service: 'svc', address: 'pending:1' }));
      await eventually(() => health.latest?.connected === false, 10_000, 'noticed the outage');
      // Long enough for gRPC's default backoff (1 s, x1.6 per attempt) to have grown past 5 s.
      await new Promise((resolve) => setTimeout(resolve, 8000));
      expect(pending.values).toEqual([]);

      await etcd.members[0]?.start();
      await etcd.waitHealthy();
      const back = Date.now();
      const client = new Etcd3({ hosts: etcd.endpoints });
      await client.put(`${prefix}services/svc/after:1`).value('');
      const times: Record<string, number> = {};
      await Promise.all([
        eventually(() => pending.values.length === 1, 15_000).then(
          () => (times.registration = Date.now() - back),
        ),
        eventually(() => stream.latest?.length === 2, 15_000).then(
          () => (times.stream = Date.now() - back),
        ),
        eventually(() => health.latest?.connected === true, 15_000).then(
          () => (times.health = Date.now() - back),
        ),
      ]);
      client.close();
      process.stdout.write(`recovery after an 8 s outage (ms): ${JSON.stringify(times)}\n`);
      // Backoff is capped at 2 s (jittered) plus a connection: a loose bound that still fails on
      // gRPC's default, which by now waits 5 s and more between attempts.
      expect(Math.max(...Object.values(times))).toBeLessThan(5000);
      expect([stream.error, pending.error]).toEqual([undefined, undefined]);
    } finally {
      await closeTestRegistries();
      await etcd.close();
    }
  });

  it('is reported at the default log level: etcd lost, the lease lost, registrations written again, etcd back', async () => {
    const etcd = await EtcdCluster.start();
    const stream = new PassThrough();
    let log = '';
    stream.on('data', (chunk: Buffer) => (log += chunk.toString()));
    try {
      const { registry } = await connectTest(etcd.endpoints, {
        leaseSeconds: 3,
        requestTimeoutSeconds: 0.5,
        // What an application gets without a logger of its own: GSR_LOG_LEVEL=0, warnings shown.
        logger: createLogger({ logLevel: 0, logMicroseconds: false, logFileTrace: false }, stream),
      });
      const registration = record(registry.register({ service: 'svc', address: 'a:1' }));
      await eventually(() => registration.values.length === 1);
      etcd.members[0]?.pause(); // A 6 s outage: longer than the lease.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      etcd.members[0]?.resume();
      await eventually(() => registration.values.length === 2, 20_000, 'registered again');
      await eventually(() => log.includes('connection to etcd restored'), 10_000, 'restored');
      expect(log).toMatch(/ warn gsr: connection to etcd lost \(.*\); retrying/);
      expect(log).toMatch(
        / warn gsr: lease \d+ lost \(no keepalive of lease \d+ was answered for 3s\)/,
      );
      expect(log).toMatch(
        / warn gsr: granted lease \d+ \d+ms after losing the last one; writing every registration again on it/,
      );
      expect(log).toMatch(/ warn gsr: connection to etcd restored after \d+ms/);
      expect(log).not.toMatch(/ (info|debug) gsr:/);
    } finally {
      await closeTestRegistries();
      await etcd.close();
    }
  });
});
