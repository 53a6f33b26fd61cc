import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationError } from '../../lib/errors/AuthenticationError';
import { ConfigError } from '../../lib/errors/ConfigError';
import { ConnectError } from '../../lib/errors/ConnectError';
import { EtcdUnavailableError } from '../../lib/errors/EtcdUnavailableError';
import { PermissionDeniedError } from '../../lib/errors/PermissionDeniedError';
import { Registry } from '../../lib/registry/Registry';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { freePorts } from '../../lib/testing/freePorts';
import { useEtcdWithAuth } from '../support/etcdAuth';
import { eventually, record } from '../support/observe';
import { testLogger } from '../support/testLogger';

describe('Registry.connect', () => {
  let etcd: EtcdCluster;

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
  });
  afterAll(async () => {
    await etcd.close();
  });

  it('resolves once etcd answers, and close() releases the client', async () => {
    const { logger, lines } = testLogger();
    const registry = await Registry.connect({ etcdEndpoints: etcd.endpoints, logger, env: {} });
    expect(registry.config.etcdEndpoints).toEqual(etcd.endpoints);
    expect(registry.config.keyPrefix).toBe('gsr/');
    expect(lines).toContainEqual(expect.stringMatching(/^info: connected to etcd at http:\/\/127/));
    await registry.close();
    await expect(registry.close()).resolves.toBeUndefined();
  });

  it('reads GSR_* variables from the environment it is given', async () => {
    const registry = await Registry.connect({
      logger: testLogger().logger,
      env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: 'env-prefix' },
    });
    expect(registry.config.keyPrefix).toBe('env-prefix/');
    await registry.close();
  });

  it('rejects an invalid variable with a ConfigError before contacting etcd', async () => {
    const attempt = Registry.connect({
      env: { GSR_LEASE_SECONDS: 'abc', GSR_ETCD_ENDPOINTS: etcd.endpoints.join(',') },
    });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow('GSR_LEASE_SECONDS: expected a whole number');
  });

  it('gives up on an unreachable endpoint after the connect timeout, naming it', async () => {
    const [port] = await freePorts(1);
    const endpoint = `http://127.0.0.1:${port ?? 0}`;
    const started = Date.now();
    const attempt = Registry.connect({
      waitForEtcd: true,
      etcdEndpoints: endpoint,
      connectTimeoutSeconds: 2,
      logger: testLogger().logger,
      env: {},
    });
    await expect(attempt).rejects.toBeInstanceOf(ConnectError);
    const elapsed = Date.now() - started;
    const error = (await attempt.catch((e: unknown) => e)) as ConnectError;
    expect(error.name).toBe('ConnectError');
    expect(error.endpoints).toEqual([endpoint]);
    expect(error.message).toContain(`Could not reach etcd at ${endpoint} within 2s`);
    expect(error.cause).toBeInstanceOf(Error);
    // It kept trying for the whole timeout (the message says which: not the default 300 s).
    expect(elapsed).toBeGreaterThanOrEqual(1900);
  });

  describe('against a server that accepts connections and never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    });

    it('bounds each attempt by the dial timeout and still gives up in time', async () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const { logger, lines } = testLogger();
      const attempt = Registry.connect({
        waitForEtcd: true,
        etcdEndpoints: `127.0.0.1:${port}`,
        connectTimeoutSeconds: 2,
        dialTimeoutSeconds: 0.3,
        logger,
        env: {},
      });
      await expect(attempt).rejects.toBeInstanceOf(ConnectError);
      // Several attempts fit in the timeout only if each one stopped at the dial timeout.
      const attempts = lines.filter((line) => line.startsWith('debug: connect attempt'));
      expect(attempts.length).toBeGreaterThanOrEqual(2);
    });
  });

  it('waits for an etcd that starts after it began trying', async () => {
    const late = EtcdCluster.start();
    // Learn the endpoint only once the cluster exists; connect before it is healthy.
    const cluster = await late;
    await cluster.members[0]?.stop();
    const { logger, lines } = testLogger();
    const connecting = Registry.connect({
      waitForEtcd: true,
      etcdEndpoints: cluster.endpoints,
      connectTimeoutSeconds: 30,
      logger,
      env: {},
    });
    let settled = false;
    void connecting.finally(() => (settled = true)).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(settled).toBe(false); // Still trying, not given up.
    await cluster.members[0]?.start();
    const registry = await connecting;
    try {
      // Connected for real: it reads and writes.
      const held = record(registry.register({ service: 'late', address: 'a:1' }));
      await eventually(() => held.values.length === 1);
      expect((await registry.endpoints('late')).map((e) => e.address)).toEqual(['a:1']);
      expect(lines.some((line) => line.includes('is not answering yet'))).toBe(true);
    } finally {
      await registry.close();
      await cluster.close();
    }
  });

  it('starts without an etcd that does not answer within a second, and catches up once it does', async () => {
    const cluster = await EtcdCluster.start();
    try {
      await cluster.members[0]?.stop();
      const { logger, lines } = testLogger();
      // Resolves although etcd is down: it would otherwise wait up to the 300 s connect timeout.
      const registry = await Registry.connect({
        etcdEndpoints: cluster.endpoints,
        keyPrefix: 'offline/',
        logger,
        env: {},
      });
      try {
        const health = record(registry.health$);
        const held = record(registry.register({ service: 'web', address: 'a:1' }));
        const list = record(registry.endpoints$('web'));
        expect(health.latest?.connected).toBe(false);
        expect(lines.some((line) => line.includes('did not answer within 750ms'))).toBe(true);
        await expect(registry.endpoints('web')).rejects.toBeInstanceOf(EtcdUnavailableError);
        expect([held.values, list.values]).toEqual([[], []]); // Waiting, not failed.

        await cluster.members[0]?.start();
        await eventually(() => held.values.length === 1, 30_000, 'the registration written');
        await eventually(() => list.latest?.length === 1, 30_000, 'the list read');
        await eventually(() => health.latest?.connected === true, 30_000, 'connected');
        expect((await registry.endpoints('web')).map((e) => e.address)).toEqual(['a:1']);
        expect([held.error, list.error]).toEqual([undefined, undefined]);
      } finally {
        await registry.close();
      }
    } finally {
      await cluster.close();
    }
  });

  it('rejects at once when a TLS file cannot be read, naming the variable and the path', async () => {
    const attempt = Registry.connect({
      env: {
        GSR_ETCD_ENDPOINTS: 'https://127.0.0.1:1',
        GSR_USE_TLS: 'true',
        GSR_TLS_CERT_PATH: '/nonexistent/client.pem',
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      'GSR_TLS_CERT_PATH: cannot read the file (ENOENT), got "/nonexistent/client.pem"',
    );
  });

  it('rejects at once when the CA file cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gsr-tls-'));
    writeFileSync(join(dir, 'c.pem'), 'x');
    const attempt = Registry.connect({
      env: { GSR_ETCD_ENDPOINTS: 'https://127.0.0.1:1', GSR_TLS_CA_PATH: join(dir, 'ca.pem') },
    });
    await expect(attempt).rejects.toThrow(/GSR_TLS_CA_PATH: cannot read the file \(ENOENT\)/);
  });

  describe('with etcd authentication', () => {
    const secured = useEtcdWithAuth([
      { name: 'svc', password: 'good', readWritePrefix: 'gsr/' },
      { name: 'outsider', password: 'good', readWritePrefix: 'other/' },
    ]);

    it('connects with the right credentials, and can then read and write its prefix', async () => {
      const registry = await Registry.connect({
        waitForEtcd: true,
        etcdEndpoints: [...secured.endpoints],
        etcdUsername: 'svc',
        etcdPassword: 'good',
        logger: testLogger().logger,
        env: {},
      });
      try {
        const held = record(registry.register({ service: 'authed', address: 'a:1' }));
        await eventually(() => held.values.length === 1);
        expect((await registry.endpoints('authed')).map((e) => e.address)).toEqual(['a:1']);
      } finally {
        await registry.close();
      }
    });

    it('rejects a wrong password at once also when it would start without etcd', async () => {
      const attempt = Registry.connect({
        etcdEndpoints: [...secured.endpoints],
        etcdUsername: 'svc',
        etcdPassword: 'wrong',
        logger: testLogger().logger,
        env: {},
      });
      await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    });

    it('rejects a wrong password at once with an AuthenticationError', async () => {
      // "At once": not after the connect timeout, 300 s, far past this test's own.
      const attempt = Registry.connect({
        waitForEtcd: true,
        etcdEndpoints: [...secured.endpoints],
        etcdUsername: 'svc',
        etcdPassword: 'wrong',
        connectTimeoutSeconds: 300,
        logger: testLogger().logger,
        env: {},
      });
      await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
      await expect(attempt).rejects.toThrow('as user "svc"');
    });

    it('rejects at once a user without access to the key prefix', async () => {
      const attempt = Registry.connect({
        waitForEtcd: true,
        etcdEndpoints: [...secured.endpoints],
        etcdUsername: 'outsider',
        etcdPassword: 'good',
        connectTimeoutSeconds: 60,
        logger: testLogger().logger,
        env: {},
      });
      await expect(attempt).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(attempt).rejects.toThrow('etcd denied gsr access to "gsr/services/"');
    });
  });
});
