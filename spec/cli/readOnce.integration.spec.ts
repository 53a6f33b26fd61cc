import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EtcdGrpcProxy } from '../../lib/testing/EtcdGrpcProxy';
import { useEtcdWithAuth } from '../support/etcdAuth';
import { requireBuild } from '../support/requireBuild';
import { repoRoot, runNode, type NodeRun } from '../support/runNode';
import { uniquePrefix } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const bin = join(repoRoot, 'dist', 'cli', 'main.js');
const preload = join(repoRoot, 'spec', 'support', 'printLoadedPackages.cjs');
const dir = mkdtempSync(join(tmpdir(), 'gsr-read-once-'));
/** Packages that only the gRPC path needs: a one-off read through the gateway loads none of them. */
const GRPC_PATH = ['@grpc/grpc-js', '@grpc/proto-loader', 'etcd3', 'protobufjs', 'rxjs'];

/** Runs the compiled `gsr` with `env`, and says which packages it loaded. */
async function gsr(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<NodeRun & { readonly packages: readonly string[] }> {
  const file = join(dir, `${Math.random()}.txt`);
  const run = await runNode(['--require', preload, bin, ...args], {
    env: { ...env, PRINT_LOADED_PACKAGES_TO: file },
  });
  return { ...run, packages: readFileSync(file, 'utf8').split('\n') };
}

describe("one-off commands (gsr endpoints, services, overrides) read through etcd's JSON gateway", () => {
  const etcd = useEtcd();
  let env: NodeJS.ProcessEnv;
  let prefix: string;

  beforeAll(() => requireBuild());
  beforeEach(() => {
    prefix = uniquePrefix();
    env = { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: prefix };
  });

  it('answer without loading gRPC, etcd3, RxJS or winston, with operators’ overrides applied', async () => {
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    await etcd.raw.put(`${prefix}services/web/10.0.0.2:80`).value('{"gsr.state":"draining"}');
    await etcd.raw.put(`${prefix}services/api/10.0.0.3:80`).value('');
    const drained = await runNode([bin, 'drain', 'web', '10.0.0.1:80', '--reason', 'disk'], {
      env,
    });
    expect(drained.code).toBe(0);

    const endpoints = await gsr(['endpoints', 'web'], env);
    expect(endpoints.stdout).toMatch(
      /^10\.0\.0\.1:80 \[maintenance: "disk", set .* ago\]\n10\.0\.0\.2:80 \[draining\]\n$/,
    );
    expect(endpoints.stderr).toBe('');
    expect(endpoints.code).toBe(0);
    const services = await gsr(['services'], env);
    expect(services).toMatchObject({ code: 0, stdout: 'api\nweb\n', stderr: '' });
    const overrides = await gsr(['overrides'], env);
    expect(overrides.stdout).toMatch(/^web 10\.0\.0\.1:80 \[maintenance: "disk", set .* ago\]\n$/);
    expect(overrides).toMatchObject({ code: 0, stderr: '' });
    for (const run of [endpoints, services, overrides]) {
      expect(run.packages).toContain('convict');
      expect(run.packages.filter((name) => [...GRPC_PATH, 'winston'].includes(name))).toEqual([]);
    }
  });

  it('say what others wrote badly in one log line (winston loaded only then), and list the rest', async () => {
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    await etcd.raw.put(Buffer.from(`${prefix}services/web/\xff`, 'latin1')).value('');
    const run = await gsr(['endpoints', 'web'], env);
    expect(run).toMatchObject({ code: 0, stdout: '10.0.0.1:80\n' });
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringContaining(`skipping malformed key "${prefix}services/web/\\xff"`),
    ]);
    expect(run.packages).toContain('winston');
    expect(run.packages.filter((name) => GRPC_PATH.includes(name))).toEqual([]);
  });

  it("read over gRPC where there is no gateway (etcd's grpc-proxy), saying so at debug level", async () => {
    await etcd.raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    const proxy = await EtcdGrpcProxy.start({ endpoints: etcd.endpoints });
    try {
      const run = await gsr(['endpoints', 'web'], {
        ...env,
        GSR_ETCD_ENDPOINTS: proxy.url,
        GSR_LOG_LEVEL: '2',
      });
      expect(run).toMatchObject({ code: 0, stdout: '10.0.0.1:80\n' });
      expect(run.stderr).toContain(
        `etcd's JSON gateway did not answer (${proxy.url} serves no etcd JSON gateway (HTTP 404)): reading over gRPC`,
      );
      expect(run.packages).toContain('etcd3');
    } finally {
      await proxy.close();
    }
  });

  it('say so at the default log level when a member that never answers made them wait', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const run = await gsr(['services'], {
        ...env,
        GSR_ETCD_ENDPOINTS: url,
        GSR_ETCD_CONNECT_TIMEOUT_SECONDS: '1',
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /warn gsr: etcd's JSON gateway did not answer \(no etcd endpoint answered within 2s \(the dial and request timeouts\)\): reading over gRPC after \d+\.\ds/,
      );
      expect(run.stderr).toContain(`gsr: Could not reach etcd at ${url} within 1s`);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe('with etcd authentication', () => {
    const secured = useEtcdWithAuth(
      [
        { name: 'svc', password: 'good', readWritePrefix: 'gsr/' },
        // May read the endpoints, not operators' overrides.
        { name: 'reader', password: 'good', readPrefix: 'gsr/services/' },
      ],
      async (raw) => {
        await raw.put('gsr/services/web/10.0.0.1:80').value('');
        await raw
          .put('gsr/overrides/web/10.0.0.1:80')
          .value('{"state":"maintenance","reason":"disk","since":"2026-01-01T00:00:00Z"}');
      },
    );
    const passwordFile = join(dir, 'password');
    const as = (user: string, password: string) => {
      writeFileSync(passwordFile, `${password}\n`);
      return [
        '--endpoints',
        secured.endpoints.join(','),
        '--user',
        user,
        '--password-file',
        passwordFile,
      ];
    };

    it('read as the user the flags name', async () => {
      const run = await gsr([...as('svc', 'good'), 'endpoints', 'web'], {});
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(/^10\.0\.0\.1:80 \[maintenance: "disk"/);
      expect(run.packages.filter((name) => GRPC_PATH.includes(name))).toEqual([]);
    });

    it('refuse a wrong password at once, naming the variables to check, without trying gRPC', async () => {
      const run = await gsr([...as('svc', 'wrong'), 'endpoints', 'web'], {});
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'etcd refused to authenticate gsr as user "svc" (check GSR_ETCD_USERNAME and GSR_ETCD_PASSWORD): etcdserver: authentication failed, invalid user ID or password',
      );
      expect(run.packages.filter((name) => GRPC_PATH.includes(name))).toEqual([]);
    });

    it('refuse `gsr overrides` (exit 1) rather than say "none" to who may not read them', async () => {
      const denied = await gsr([...as('reader', 'good'), 'overrides'], {});
      expect(denied).toMatchObject({ code: 1, stdout: '' });
      expect(denied.stderr).toContain('etcd denied gsr access');
      expect(denied.stderr).not.toContain('no endpoint is in maintenance');
      const wrong = await gsr([...as('svc', 'wrong'), 'overrides'], {});
      expect(wrong).toMatchObject({ code: 1, stdout: '' });
      expect(wrong.stderr).toContain('etcd refused to authenticate gsr as user "svc"');
      const anonymous = await gsr(['--endpoints', secured.endpoints.join(','), 'overrides'], {});
      expect(anonymous).toMatchObject({ code: 1, stdout: '' });
      expect(anonymous.stderr).not.toContain('no endpoint is in maintenance');
      const allowed = await gsr([...as('svc', 'good'), 'overrides'], {});
      expect(allowed).toMatchObject({ code: 0, stderr: '' });
      expect(allowed.stdout).toMatch(/^web 10\.0\.0\.1:80 \[maintenance: "disk"/);
    });

    it('show no overrides, said once, to a user who may not read them', async () => {
      const run = await gsr([...as('reader', 'good'), 'endpoints', 'web'], {});
      expect(run).toMatchObject({ code: 0, stdout: '10.0.0.1:80\n' });
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringContaining(
          `cannot read operators' overrides under "gsr/overrides/" (etcd denied gsr access`,
        ),
      ]);
    });
  });
});
