import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../support/observe';
import { repoRoot } from '../support/runNode';
import { Registry } from '../../lib/registry/Registry';
import { useEtcd } from '../support/useEtcd';
import { startWhoAmIServer, type WhoAmIServer } from '../support/whoAmIServer';

const run = promisify(execFile);

/**
 * A real grpc-go client (1.33, on etcd 3.4's resolver, both from Debian's packages, which `npm run
 * setup` installs) against a grpc-js server that gsr registers under etcd's naming layout: the README's
 * Go snippet, and the trap it warns of.
 */
describe('a grpc-go client on etcd’s resolver, calling a Node server', () => {
  const etcd = useEtcd();
  let client = '';
  let server: WhoAmIServer;

  beforeAll(async () => {
    const out = mkdtempSync(join(tmpdir(), 'gsr-go-'));
    client = join(out, 'whoami');
    // GOPATH mode on Debian's Go sources: nothing is downloaded.
    await run('go', ['build', '-o', client, join(repoRoot, 'spec', 'support', 'go', 'whoami.go')], {
      env: {
        ...process.env,
        GO111MODULE: 'off',
        GOPATH: `/usr/share/gocode:${join(out, 'gopath')}`,
        GOCACHE: join(tmpdir(), 'gsr-go-cache'),
        GOFLAGS: '',
      },
      timeout: 180_000,
    });
    server = await startWhoAmIServer('node');
  }, 200_000);
  afterAll(async () => {
    await server.close();
  });

  /** What the Go client prints for `etcd:///<target>`, with `grpc.WithAuthority(authority)` if given. */
  const call = async (target: string, authority = ''): Promise<string> => {
    try {
      const { stdout } = await run(client, [etcd.endpoints[0] ?? '', target, authority], {
        timeout: 20_000,
      });
      return stdout.trim();
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? error).trim();
    }
  };

  it('reaches it through a target with "/" only with grpc.WithAuthority: grpc-js resets a "/" authority', async () => {
    // From the root of the keyspace, where etcd's Go resolver looks: this etcd is this suite's own.
    const registry = await Registry.connect({
      etcdEndpoints: etcd.endpoints,
      keyLayout: 'etcd-naming',
      env: {},
    });
    for (const service of ['prod/greeter', 'greeter']) {
      registry.register({ service, address: server.address }).subscribe();
    }
    await eventually(
      async () => (await etcd.raw.getAll().prefix('greeter/').keys()).length === 1,
      10_000,
      'registered',
    );
    // The trap: grpc-go sends `:authority: prod/greeter`, which Node's HTTP/2 server refuses.
    expect(await call('prod/greeter')).toMatch(/RST_STREAM with error code: PROTOCOL_ERROR/);
    // The fixes the README gives: an authority of the client's choosing, or a target without "/".
    expect(await call('prod/greeter', 'greeter')).toBe('answered by {"name":"node"}');
    expect(await call('greeter')).toBe('answered by {"name":"node"}');
    await registry.close();
  });

  it('still reaches a draining endpoint: the state rides in the metadata, which Go passes through', async () => {
    const registry = await Registry.connect({
      etcdEndpoints: etcd.endpoints,
      keyLayout: 'etcd-naming',
      env: {},
    });
    registry.register({ service: 'drained', address: server.address }).subscribe();
    await registry.drain({ delayMs: 0 });
    const value = await etcd.raw.get(`drained/${server.address}`).string();
    expect(JSON.parse(value ?? '')).toEqual({
      Op: 0,
      Addr: server.address,
      Metadata: '{"gsr.state":"draining"}',
    });
    expect(await call('drained')).toBe('answered by {"name":"node"}');
    await registry.close();
  });
});
