import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Registry } from '../../lib/registry/Registry';
import { ConfigError } from '../../lib/errors/ConfigError';
import { TlsError } from '../../lib/errors/TlsError';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, record } from '../support/observe';
import {
  createTestCertificates,
  etcdTls,
  type TestCertificates,
} from '../support/testCertificates';
import { testLogger } from '../support/testLogger';

describe('TLS', () => {
  let certs: TestCertificates;
  let mutual: EtcdCluster;

  const connect = (env: Record<string, string>) =>
    Registry.connect({
      logger: testLogger().logger,
      env: {
        GSR_ETCD_ENDPOINTS: mutual.endpoints.join(','),
        // A handshake refused comes at once: not after this timeout, far past a test's own.
        GSR_ETCD_CONNECT_TIMEOUT_SECONDS: '300',
        GSR_WAIT_FOR_ETCD: 'true',
        ...env,
      },
    });
  const clientCertificate = () => ({
    GSR_USE_TLS: 'true',
    GSR_TLS_CERT_PATH: certs.clientCertFile,
    GSR_TLS_KEY_PATH: certs.clientKeyFile,
    GSR_TLS_CA_PATH: certs.caFile,
  });

  beforeAll(async () => {
    certs = createTestCertificates();
    mutual = await EtcdCluster.start({ tls: etcdTls(certs, true) });
  });
  afterAll(async () => {
    await mutual.close();
  });

  it('registers and discovers over mutual TLS', async () => {
    expect(mutual.endpoints[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const registry = await connect(clientCertificate());
    try {
      const web = record(registry.endpoints$('web'));
      const registration = record(registry.register({ service: 'web', address: '10.0.0.1:80' }));
      await eventually(() => registration.values.length === 1 && web.latest?.length === 1);
      expect(web.latest).toEqual([{ service: 'web', address: '10.0.0.1:80' }]);
    } finally {
      await registry.close();
    }
  });

  it('gives scheme-less endpoints https:// with GSR_USE_TLS', async () => {
    const registry = await connect({
      ...clientCertificate(),
      GSR_ETCD_ENDPOINTS: (mutual.endpoints[0] ?? '').replace('https://', ''),
    });
    expect(registry.config.etcdEndpoints).toEqual(mutual.endpoints);
    await registry.close();
  });

  it('rejects at once, with a TlsError, when etcd refuses a missing client certificate', async () => {
    const attempt = connect({ GSR_TLS_CA_PATH: certs.caFile });
    await expect(attempt).rejects.toBeInstanceOf(TlsError);
    await expect(attempt).rejects.toThrow(/GSR_TLS_CERT_PATH/);
  });

  it.each([
    ['a CA that did not sign it', (c: TestCertificates) => ({ GSR_TLS_CA_PATH: c.otherCaFile })],
    ['the system roots', () => ({ GSR_TLS_CA_PATH: '' })],
  ])("rejects at once, with a TlsError, etcd's certificate checked against %s", async (_, ca) => {
    const env: Record<string, string> = { ...clientCertificate(), ...ca(certs) };
    if (env.GSR_TLS_CA_PATH === '') {
      delete env.GSR_TLS_CA_PATH;
    }
    const attempt = connect(env);
    await expect(attempt).rejects.toBeInstanceOf(TlsError);
    await expect(attempt).rejects.toThrow(/unable to verify|certificate/);
  });

  it.each([
    ['GSR_TLS_CERT_PATH', '/nonexistent/client.pem', 'ENOENT'],
    ['GSR_TLS_KEY_PATH', '/nonexistent/client.key', 'ENOENT'],
    ['GSR_TLS_CA_PATH', '/nonexistent/ca.pem', 'ENOENT'],
    ['GSR_TLS_KEY_PATH', mkdtempSync(`${tmpdir()}/gsr-not-a-file-`), 'EISDIR'],
  ])(
    'rejects at once a %s it cannot read (%s), naming it: no plain-text fallback',
    async (variable, path, code) => {
      const attempt = connect({ ...clientCertificate(), [variable]: path });
      await expect(attempt).rejects.toBeInstanceOf(ConfigError);
      await expect(attempt).rejects.toThrow(
        `${variable}: cannot read the file (${code}), got ${JSON.stringify(path)}`,
      );
    },
  );

  it('talks TLS without a client certificate to an etcd that does not ask for one', async () => {
    const serverOnly = await EtcdCluster.start({ tls: etcdTls(certs, false) });
    try {
      const registry = await Registry.connect({
        logger: testLogger().logger,
        env: { GSR_ETCD_ENDPOINTS: serverOnly.endpoints.join(','), GSR_TLS_CA_PATH: certs.caFile },
      });
      expect(await registry.endpoints('web')).toEqual([]);
      await registry.close();
    } finally {
      await serverOnly.close();
    }
  });
});
