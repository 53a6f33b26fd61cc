import { Etcd3 } from 'etcd3';
import { unmeasuredLag } from '../../lib/etcd/EventLoopLag';
import type { EtcdFailure } from '../../lib/etcd/EtcdFailure';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { enableEtcdAuth } from '../support/etcdAuth';
import { systemClock } from '../../lib/etcd/Clock';
import { loadConfig } from '../../lib/config/loadConfig';
import { ConnectionHealth } from '../../lib/etcd/ConnectionHealth';
import { Etcd3Port, orderedProgress } from '../../lib/etcd/etcd3/Etcd3Port';
import { gsrMeter } from '../../lib/metrics/instruments';
import { RegistryMetrics } from '../../lib/metrics/RegistryMetrics';
import { eventually } from '../support/observe';
import { describePortContract } from '../support/portContract';
import { TcpProxy } from '../../lib/testing/TcpProxy';
import { testLogger } from '../support/testLogger';
import { uniquePrefix } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

describe('Etcd3Port', () => {
  const etcd = useEtcd();

  describePortContract('etcd3 on a real etcd', async () => {
    const { logger } = testLogger();
    // Through a proxy that can hold answers up; a short request timeout, to time out on them.
    const proxy = await TcpProxy.start(etcd.endpoints[0] as string);
    const port = new Etcd3Port(
      loadConfig({ etcdEndpoints: [proxy.url], requestTimeoutSeconds: 1 }, {}),
      new ConnectionHealth(logger, systemClock, { lag: unmeasuredLag }),
      new RegistryMetrics(gsrMeter(undefined)),
    );
    await port.learnVersion();
    const [member] = etcd.members;
    return {
      port,
      prefix: uniquePrefix(),
      until: (check, what) => eventually(check, 30_000, what),
      settle: (promise) => promise,
      compact: async (revision) => {
        await etcd.raw.kv.compact({ revision: String(revision), physical: true });
      },
      now: () => Date.now(),
      restart: async (whileDown) => {
        await member?.stop();
        await whileDown();
        await member?.start();
        await etcd.cluster.waitHealthy();
      },
      holdAnswers: (held) => proxy.slowAnswers(held ? 4000 : 0),
      close: async () => {
        port.close();
        await proxy.close();
      },
    };
  });

  it('knows from etcd’s version whether progress notifications are ordered (etcd#15220)', async () => {
    const { logger } = testLogger();
    const port = new Etcd3Port(
      loadConfig({ etcdEndpoints: etcd.endpoints }, {}),
      new ConnectionHealth(logger, systemClock, { lag: unmeasuredLag }),
      new RegistryMetrics(gsrMeter(undefined)),
    );
    const version = await port.learnVersion();
    expect(version).toMatch(/^3\.\d+\.\d+/);
    expect(port.progressOrdered).toBe(orderedProgress(version ?? ''));
    port.close();
  });
});

describe('orderedProgress', () => {
  it.each([
    ['3.4.23', false],
    ['3.4.25', true],
    ['3.5.7', false],
    ['3.5.8', true],
    ['3.6.0', true],
    ['3.3.27', false],
    ['4.0.0', true],
  ])('%s: %s', (version, ordered) => {
    expect(orderedProgress(version)).toBe(ordered);
  });

  describe('as a user who may only read', () => {
    let secured: EtcdCluster;
    beforeAll(async () => {
      secured = await EtcdCluster.start();
      await enableEtcdAuth(secured.endpoints, 'rootpw', [
        { name: 'reader', password: 'pw', readPrefix: 'ro/' },
      ]);
    });
    afterAll(async () => {
      await secured.close();
    });

    // etcd 3.4 checks no permission on what a nested transaction writes: a guarded write nests none.
    it('is refused a guarded put or delete, whichever leases it allows, and the key stays', async () => {
      const root = new Etcd3({
        hosts: secured.endpoints,
        auth: { username: 'root', password: 'rootpw' },
      });
      const { logger } = testLogger();
      const port = new Etcd3Port(
        loadConfig(
          { etcdEndpoints: secured.endpoints, etcdUsername: 'reader', etcdPassword: 'pw' },
          {},
        ),
        new ConnectionHealth(logger, systemClock, { lag: unmeasuredLag }),
        new RegistryMetrics(gsrMeter(undefined)),
      );
      try {
        await root.put('ro/k').value('root');
        const kinds = await Promise.all([
          port.deleteKey('ro/k', ['7', '0']).catch((error: unknown) => error),
          port
            .putAll([{ key: 'ro/k', value: 'reader', lease: '0', ifLease: ['7', '0'] }])
            .catch((error: unknown) => error),
        ]);
        expect(kinds.map((error) => (error as EtcdFailure).kind)).toEqual([
          'permission-denied',
          'permission-denied',
        ]);
        expect(await root.get('ro/k').string()).toBe('root');
      } finally {
        port.close();
        root.close();
      }
    });
  });
});
