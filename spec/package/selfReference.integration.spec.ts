import { requireBuild } from '../support/requireBuild';
import { runNode } from '../support/runNode';
import { useEtcd } from '../support/useEtcd';

// These run the compiled package the way its users load it; `npm test` builds it first.
describe('the gsr package', () => {
  beforeAll(requireBuild);
  const etcd = useEtcd();

  it("loads with require('gsr')", async () => {
    const run = await runNode([
      '-e',
      "const gsr = require('gsr'); console.log(typeof gsr.Registry.connect, typeof gsr.loadConfig)",
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function function');
  });

  it("loads with import { Registry } from 'gsr', and gsr/testing too", async () => {
    const run = await runNode([
      '--input-type=module',
      '-e',
      "import { Registry, ConfigError } from 'gsr'; import { EtcdCluster } from 'gsr/testing';" +
        'console.log(typeof Registry.connect, ConfigError.name, typeof EtcdCluster.start)',
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function ConfigError function');
  });

  it("loads the gRPC resolver with require('gsr/grpc')", async () => {
    const run = await runNode([
      '-e',
      "const { installGrpcResolver } = require('gsr/grpc'); console.log(typeof installGrpcResolver)",
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('function');
  });

  it('exits by itself after connect() and close()', async () => {
    const run = await runNode(
      [
        '-e',
        "require('gsr').Registry.connect()" +
          ".then((r) => r.close()).then(() => console.log('closed'))",
      ],
      { env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(',') }, timeoutMs: 15_000 },
    );
    expect(run.stdout.trim()).toBe('closed');
    expect(run.code).toBe(0);
  });

  it('reports a bad variable and exits non-zero when connect() rejects unhandled', async () => {
    const run = await runNode(['-e', "require('gsr').Registry.connect()"], {
      env: { GSR_USE_TLS: 'maybe' },
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('ConfigError');
    expect(run.stderr).toContain('GSR_USE_TLS: expected true or false');
    expect(run.stderr).toContain('"maybe"');
  });
});
