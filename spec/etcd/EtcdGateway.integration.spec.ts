import { unmeasuredLag } from '../../lib/etcd/EventLoopLag';
import { systemClock } from '../../lib/etcd/Clock';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import fc from 'fast-check';
import { loadConfig } from '../../lib/config/loadConfig';
import type { GsrOptions } from '../../lib/config/GsrConfig';
import { ConfigError } from '../../lib/errors/ConfigError';
import { ConnectionHealth } from '../../lib/etcd/ConnectionHealth';
import { Etcd3Port } from '../../lib/etcd/etcd3/Etcd3Port';
import { EtcdFailure } from '../../lib/etcd/EtcdFailure';
import { EtcdGateway } from '../../lib/etcd/gateway/EtcdGateway';
import type { EtcdKV } from '../../lib/etcd/EtcdPort';
import { gsrMeter } from '../../lib/metrics/instruments';
import { RegistryMetrics } from '../../lib/metrics/RegistryMetrics';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { EtcdGrpcProxy } from '../../lib/testing/EtcdGrpcProxy';
import { freePorts } from '../../lib/testing/freePorts';
import { useEtcdWithAuth } from '../support/etcdAuth';
import { propertyParameters } from '../support/propertyParameters';
import {
  createTestCertificates,
  etcdTls,
  type TestCertificates,
} from '../support/testCertificates';
import { testLogger } from '../support/testLogger';
import { uniquePrefix } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/** Reads `prefix` once through a gateway made for `options`, and closes it. */
async function rangeOnce(options: GsrOptions, prefix: string) {
  const gateway = new EtcdGateway(loadConfig(options, {}));
  try {
    return await gateway.range(prefix);
  } finally {
    gateway.close();
  }
}

/** How a read rejects: the kind of its EtcdFailure and its message. */
async function failureOf(read: Promise<unknown>): Promise<{ kind: string; message: string }> {
  const error = await read.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(EtcdFailure);
  const { kind, message } = error as EtcdFailure;
  return { kind, message };
}

describe("EtcdGateway (etcd's JSON gateway)", () => {
  const etcd = useEtcd();

  it('reads what the gRPC port reads: the same keys, bytes, revisions and leases', async () => {
    const port = new Etcd3Port(
      loadConfig({ etcdEndpoints: etcd.endpoints }, {}),
      new ConnectionHealth(testLogger().logger, systemClock, { lag: unmeasuredLag }),
      new RegistryMetrics(gsrMeter(undefined)),
    );
    const gateway = new EtcdGateway(loadConfig({ etcdEndpoints: etcd.endpoints }, {}));
    const lease = etcd.raw.lease(60, { autoKeepAlive: false });
    try {
      // Keys and values are any bytes anyone wrote: not UTF-8, empty, 0xff at the end of a prefix.
      const bytes = fc.uint8Array({ maxLength: 12 }).map((array) => Buffer.from(array));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(bytes, bytes, fc.boolean(), fc.integer({ min: 1, max: 3 })), {
            maxLength: 8,
          }),
          fc.constantFrom('', '\u00ff', 'x/'),
          async (keys, tail) => {
            const prefix = `${uniquePrefix()}${tail}`;
            for (const [key, value, leased, writes] of keys) {
              for (let i = 0; i < writes; i++) {
                const put = etcd.raw.put(Buffer.concat([Buffer.from(prefix), key])).value(value);
                await (leased ? put.lease(await lease.grant()) : put);
              }
            }
            const [viaGrpc, viaGateway] = await Promise.all([
              port.range(prefix),
              gateway.range(prefix),
            ]);
            expect(viaGateway).toEqual(viaGrpc);
          },
        ),
        propertyParameters(15),
      );
    } finally {
      await lease.revoke();
      gateway.close();
      port.close();
    }
  });

  it('answers the whole key-value part (EtcdKV) as the gRPC port does', async () => {
    const config = loadConfig({ etcdEndpoints: etcd.endpoints }, {});
    const port = new Etcd3Port(
      config,
      new ConnectionHealth(testLogger().logger, systemClock, { lag: unmeasuredLag }),
      new RegistryMetrics(gsrMeter(undefined)),
    );
    const gateway = new EtcdGateway(config);
    /** One script of every EtcdKV request, its answers with revisions relative to its first write. */
    const script = async (kv: EtcdKV) => {
      const prefix = uniquePrefix();
      const lease = await etcd.raw.lease(60, { autoKeepAlive: false }).grant();
      const { revision: first } = await kv.putAll([
        { key: `${prefix}a`, value: 'A', lease: '0' },
        { key: `${prefix}b`, value: '', lease },
      ]);
      const { revision: second } = await kv.putAll([
        { key: `${prefix}c`, value: '\u00e9\u0000', lease: '0' },
      ]);
      const read = await kv.range(prefix);
      const now = await kv.revision(`${prefix}a`);
      const sinceFirst = await kv.delta(prefix, first - 1n);
      const sinceSecond = await kv.delta(prefix, second);
      await kv.probe(prefix, { serializable: true });
      await kv.probe(prefix, { serializable: false, deadline: Date.now() + 5000 });
      const notOnNone = await kv.deleteKey(`${prefix}b`, ['0']);
      const onOneOfThem = await kv.deleteKey(`${prefix}b`, ['0', '7', lease]);
      const unguarded = await kv.deleteKey(`${prefix}a`);
      const missing = await kv.deleteKey(`${prefix}zz`, ['0']);
      const after = await kv.range(prefix);
      const guarded = await kv.putAll([
        { key: `${prefix}c`, value: 'C', lease, ifLease: ['7', lease] },
        { key: `${prefix}d`, value: 'D', lease, ifLease: ['7', '0'] },
      ]);
      const at = (revision: bigint) => Number(revision - first);
      return {
        second: at(second),
        read: read.entries.map((e) => [
          e.key.toString('latin1').slice(prefix.length),
          e.value.toString('latin1'),
          e.lease === lease,
          at(e.modRevision),
          e.version,
        ]),
        readAt: at(read.revision),
        clusterSame: read.cluster === now.cluster && now.cluster !== '0',
        now: at(now.revision),
        sinceFirst: [sinceFirst.count, sinceFirst.changed, at(sinceFirst.revision)],
        sinceSecond: [sinceSecond.count, sinceSecond.changed],
        deletes: [notOnNone, onOneOfThem, unguarded, missing].map((d) => [
          d.deleted,
          at(d.revision),
        ]),
        after: after.entries.map((e) => e.key.toString('latin1').slice(prefix.length)),
        guarded: [
          [...guarded.held].map(([key, holder]) => [key.slice(prefix.length), holder]),
          at(guarded.revision),
        ],
      };
    };
    try {
      const viaGrpc = await script(port);
      const viaGateway = await script(gateway);
      expect(viaGateway).toEqual(viaGrpc);
      expect(viaGrpc).toEqual({
        second: 1,
        read: [
          ['a', 'A', false, 0, 1],
          ['b', '', true, 0, 1],
          ['c', '\u00c3\u00a9\u0000', false, 1, 1],
        ],
        readAt: 1,
        clusterSame: true,
        now: 1,
        sinceFirst: [3, 3, 1],
        sinceSecond: [3, 0],
        deletes: [
          [false, 1],
          [true, 2],
          [true, 3],
          [false, 3],
        ],
        after: ['c'],
        guarded: [[['c', '0']], 4],
      });
    } finally {
      gateway.close();
      port.close();
    }
  });

  it('reads an empty prefix as no keys at the current revision', async () => {
    const prefix = uniquePrefix();
    const { header } = await etcd.raw.put(`${uniquePrefix()}other`).value('');
    const read = await rangeOnce({ etcdEndpoints: etcd.endpoints }, prefix);
    expect(read.entries).toEqual([]);
    expect(read.revision).toBeGreaterThanOrEqual(BigInt(header.revision));
  });

  it('asks the next member when one does not answer, and the one that answered first next time', async () => {
    // A member that hangs up on every connection, and counts them.
    let connections = 0;
    const hangingUp = createNetServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => hangingUp.listen(0, '127.0.0.1', resolve));
    const { port } = hangingUp.address() as AddressInfo;
    const prefix = uniquePrefix();
    await etcd.raw.put(`${prefix}a`).value('1');
    const gateway = new EtcdGateway(
      loadConfig({ etcdEndpoints: [`http://127.0.0.1:${port}`, ...etcd.endpoints] }, {}),
    );
    try {
      expect((await gateway.range(prefix)).entries).toHaveLength(1);
      expect(connections).toBe(1);
      expect((await gateway.range(prefix)).entries).toHaveLength(1);
      expect(connections).toBe(1);
    } finally {
      gateway.close();
      await new Promise((resolve) => hangingUp.close(resolve));
    }
  });

  it('says when no member answers, naming the last error', async () => {
    const [dead] = await freePorts(1);
    const failure = await failureOf(
      rangeOnce({ etcdEndpoints: `127.0.0.1:${dead ?? 0}` }, 'gsr/services/web/'),
    );
    expect(failure.kind).toBe('unavailable');
    // Node's errors come from another realm than jest's, which shows them with their name.
    expect(failure.message).toMatch(/^no etcd endpoint answered: (Error: )?connect ECONNREFUSED/);
  });

  it('gives up within the dial and request timeouts on a member that accepts and never answers', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const failure = await failureOf(
        rangeOnce(
          {
            etcdEndpoints: `127.0.0.1:${port}`,
            dialTimeoutSeconds: 0.2,
            requestTimeoutSeconds: 0.2,
          },
          'gsr/',
        ),
      );
      expect(failure.kind).toBe('unavailable');
      expect(failure.message).toBe(
        'no etcd endpoint answered within 0.4s (the dial and request timeouts)',
      );
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("says a server that is no etcd gateway is none (etcd's grpc-proxy answers 404)", async () => {
    const proxy = await EtcdGrpcProxy.start({ endpoints: etcd.endpoints });
    try {
      const failure = await failureOf(rangeOnce({ etcdEndpoints: proxy.url }, 'gsr/'));
      expect(failure).toEqual({
        kind: 'unavailable',
        message: `${proxy.url} serves no etcd JSON gateway (HTTP 404)`,
      });
    } finally {
      await proxy.close();
    }
  });

  describe('from a server that answers what etcd would not', () => {
    let answer: { status: number; body: string };
    let server: Server;
    beforeAll(async () => {
      server = createServer((_request, response) => {
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(answer.body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const read = () =>
      failureOf(
        rangeOnce({ etcdEndpoints: `127.0.0.1:${(server.address() as AddressInfo).port}` }, 'a/'),
      );

    it.each([
      [200, 'not json', "etcd's JSON gateway answered a body that is not a JSON object"],
      [200, '[1]', "etcd's JSON gateway answered a range without its revision or keys"],
      [200, '{"header":{}}', "etcd's JSON gateway answered a range without its revision or keys"],
      [
        200,
        '{"header":{"revision":"-1"}}',
        "etcd's JSON gateway answered a range without its revision or keys",
      ],
      [
        200,
        '{"header":{"revision":"5"},"kvs":{}}',
        "etcd's JSON gateway answered a range without its revision or keys",
      ],
      [
        200,
        '{"header":{"revision":"5"},"kvs":[{"key":"YQ==","mod_revision":"1e3"}]}',
        "etcd's JSON gateway answered a key without its name, value or revisions",
      ],
      [
        200,
        '{"header":{"revision":"5"},"kvs":[{"key":"YQ==","value":7,"mod_revision":"3"}]}',
        "etcd's JSON gateway answered a key without its name, value or revisions",
      ],
      [503, '{"code":14,"message":"etcdserver: no leader"}', 'etcdserver: no leader'],
      [502, '<html>bad gateway</html>', 'serves no etcd JSON gateway (HTTP 502)'],
    ])('says an answer %i %s is unavailable, not a list', async (status, body, message) => {
      answer = { status, body };
      const failure = await read();
      expect(failure.kind).toBe('unavailable');
      expect(failure.message).toContain(message);
    });

    it('says a request etcd refuses for good is invalid', async () => {
      answer = { status: 400, body: '{"code":3,"message":"etcdserver: request is too large"}' };
      expect(await read()).toEqual({
        kind: 'invalid',
        message: 'etcdserver: request is too large',
      });
    });

    it('reads a key with an empty value, no lease and a value of any bytes', async () => {
      answer = {
        status: 200,
        body: '{"header":{"revision":"9"},"kvs":[{"key":"YS94","mod_revision":"7","version":"2"},{"key":"YS95","value":"/w==","mod_revision":"8","lease":"12"}]}',
      };
      const gateway = new EtcdGateway(
        loadConfig({ etcdEndpoints: `127.0.0.1:${(server.address() as AddressInfo).port}` }, {}),
      );
      try {
        expect(await gateway.range('a/')).toEqual({
          revision: 9n,
          cluster: '0', // Not said: not known.
          entries: [
            {
              key: Buffer.from('a/x'),
              value: Buffer.alloc(0),
              modRevision: 7n,
              version: 2,
              lease: '0',
            },
            {
              key: Buffer.from('a/y'),
              value: Buffer.from([0xff]),
              modRevision: 8n,
              version: 0,
              lease: '12',
            },
          ],
        });
      } finally {
        gateway.close();
      }
    });
  });

  describe('with etcd authentication', () => {
    const secured = useEtcdWithAuth([{ name: 'svc', password: 'good', readWritePrefix: 'gsr/' }]);
    const as = (user: Partial<GsrOptions>) => ({ etcdEndpoints: [...secured.endpoints], ...user });

    it('reads as the configured user', async () => {
      const read = await rangeOnce(as({ etcdUsername: 'svc', etcdPassword: 'good' }), 'gsr/');
      expect(read.entries).toEqual([]);
    });

    it.each([
      ['without credentials', {}, 'etcdserver: user name is empty'],
      [
        'with a wrong password',
        { etcdUsername: 'svc', etcdPassword: 'wrong' },
        'etcdserver: authentication failed, invalid user ID or password',
      ],
    ])('refuses a read %s as unauthenticated', async (_case, user, message) => {
      expect(await failureOf(rangeOnce(as(user), 'gsr/'))).toEqual({
        kind: 'unauthenticated',
        message,
      });
    });

    it('says a prefix the user may not read is denied', async () => {
      expect(
        await failureOf(rangeOnce(as({ etcdUsername: 'svc', etcdPassword: 'good' }), 'other/')),
      ).toEqual({ kind: 'permission-denied', message: 'etcdserver: permission denied' });
    });
  });

  describe('over TLS', () => {
    let certs: TestCertificates;
    let mutual: EtcdCluster;
    beforeAll(async () => {
      certs = createTestCertificates();
      mutual = await EtcdCluster.start({ tls: etcdTls(certs, true) });
    });
    afterAll(async () => {
      await mutual.close();
    });
    const tls = () => ({
      useTls: true,
      tlsCertPath: certs.clientCertFile,
      tlsKeyPath: certs.clientKeyFile,
      tlsCaPath: certs.caFile,
    });

    it('reads with the client certificate and CA the configuration names', async () => {
      const read = await rangeOnce({ etcdEndpoints: mutual.endpoints, ...tls() }, 'gsr/');
      expect(read.entries).toEqual([]);
    });

    it('does not read from a server its CA did not sign', async () => {
      const failure = await failureOf(
        rangeOnce(
          { etcdEndpoints: mutual.endpoints, ...tls(), tlsCaPath: certs.otherCaFile },
          'gsr/',
        ),
      );
      expect(failure.kind).toBe('unavailable');
      expect(failure.message).toMatch(/certificate/);
    });

    it('rejects an unreadable TLS file with a ConfigError before connecting', () => {
      expect(
        () =>
          new EtcdGateway(
            loadConfig(
              { etcdEndpoints: mutual.endpoints, ...tls(), tlsKeyPath: '/nonexistent' },
              {},
            ),
          ),
      ).toThrow(ConfigError);
    });
  });
});
