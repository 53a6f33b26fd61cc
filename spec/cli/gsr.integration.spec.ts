import { type ChildProcess, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Etcd3 } from 'etcd3';
import { systemClock } from '../../lib/etcd/Clock';
import { SnapshotStore } from '../../lib/snapshot/SnapshotStore';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { freePorts } from '../../lib/testing/freePorts';
import { eventually } from '../support/observe';
import { repoRoot, runNode, type NodeRun } from '../support/runNode';
import { uniquePrefix } from '../support/testRegistries';
import { documentationPages } from '../readme/readmeSnippets';
import { requireBuild } from '../support/requireBuild';

/** An HTTP/2 server without TLS that answers every request 404: what a gRPC client meets at a web server. */
function http2NotFoundServer() {
  return createHttp2Server((_request, response) => {
    response.statusCode = 404;
    response.end('not here');
  });
}

// The command as users run it: the compiled bin (npm test builds it first).
const bin = join(repoRoot, 'dist', 'cli', 'main.js');

describe('the gsr command', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  let env: NodeJS.ProcessEnv;
  let prefix: string;

  const gsr = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<NodeRun> =>
    runNode([bin, ...args], { env: { ...env, ...extraEnv } });

  /** Starts a long-running command; `output()` is what it printed so far. */
  function start(args: string[]): { child: ChildProcessWithoutNullStreams; output: () => string } {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    return { child, output: () => out };
  }
  const exitOf = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  beforeAll(async () => {
    requireBuild();
    etcd = await EtcdCluster.start();
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  beforeEach(() => {
    prefix = uniquePrefix();
    env = { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: prefix };
  });
  afterAll(async () => {
    raw.close();
    await etcd.close();
  });

  it('prints its usage and the configuration variables with --help', async () => {
    const run = await gsr(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['services', 'endpoints', 'watch', 'register']) {
      expect(run.stdout).toContain(command);
    }
    expect(run.stdout).toContain('GSR_ETCD_ENDPOINTS');
  });

  it('has every command and flag that the README and docs/cli.md show', async () => {
    const help = (await gsr(['--help'])).stdout;
    const shown = documentationPages()
      .filter(({ file }) => file === 'README.md' || file === 'docs/cli.md')
      .flatMap(({ text }) => text.split(/^```/m).filter((_, i) => i % 2 === 1))
      .filter((block) => block.startsWith('sh\n'))
      .flatMap((block) => block.split('\n'))
      .flatMap((line) => line.replace(/#.*$/, '').split('|'))
      .map((part) =>
        /^\s*gsr((?:\s+--?[a-z-]+(?:\s+[^\s-][^\s]*)?)*)\s+([a-z][a-z-]*)(.*)$/.exec(part),
      )
      .filter((match): match is RegExpExecArray => match !== null);
    expect(shown.length).toBeGreaterThan(10);
    for (const [, flags = '', command = '', rest = ''] of shown) {
      expect(help).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
      for (const flag of flags.match(/--[a-z-]+/g) ?? []) {
        expect(help).toContain(flag);
      }
      const ownFlags = rest.match(/(?<=\s)--[a-z-]+/g) ?? [];
      if (ownFlags.length > 0) {
        const own = (await gsr([command, '--help'])).stdout;
        ownFlags.forEach((flag) => expect(own).toContain(flag));
      }
    }
  });

  it.each(['services', 'endpoints', 'watch', 'register'])('prints help for %s', async (command) => {
    const run = await gsr([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: gsr ${command}`);
  });

  it('lists services, one per line', async () => {
    await raw.put(`${prefix}services/web/a:1`).value('');
    await raw.put(`${prefix}services/background/b:1`).value('');
    const run = await gsr(['services']);
    expect(run).toMatchObject({ code: 0, stdout: 'background\nweb\n' });
  });

  it("lists a service's endpoints, as addresses or as JSON", async () => {
    await raw.put(`${prefix}services/web/10.0.0.2:80`).value('');
    await raw.put(`${prefix}services/web/10.0.0.1:80`).value('{"zone":"a"}');
    expect(await gsr(['endpoints', 'web'])).toMatchObject({
      code: 0,
      stdout: '10.0.0.1:80\n10.0.0.2:80\n',
    });
    const json = await gsr(['endpoints', 'web', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      { service: 'web', address: '10.0.0.1:80', metadata: { zone: 'a' } },
      { service: 'web', address: '10.0.0.2:80' },
    ]);
  });

  it('watches a service, printing each change until interrupted', async () => {
    const { child, output } = start(['watch', 'web']);
    await eventually(() => output().includes('(no endpoints)'), 10_000, 'first line');
    await raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    await eventually(() => /Z 10\.0\.0\.1:80\n/.test(output()), 10_000, 'second line');
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
    expect(output()).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z \(no endpoints\)\n[\dT:.Z-]+ 10\.0\.0\.1:80\n$/,
    );
  });

  it('watches as JSON lines', async () => {
    await raw.put(`${prefix}services/web/a:1`).value('');
    const { child, output } = start(['watch', 'web', '--json']);
    await eventually(() => output().includes('\n'), 10_000, 'first line');
    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    const line = JSON.parse(output().trim()) as Record<string, unknown>;
    expect(line).toEqual({
      time: expect.any(String) as string,
      service: 'web',
      endpoints: [{ service: 'web', address: 'a:1' }],
    });
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'registers until %s, then deregisters and exits 0',
    async (signal) => {
      const key = `${prefix}services/web/10.0.0.9:80`;
      const { child, output } = start([
        'register',
        'web',
        '10.0.0.9:80',
        '--metadata',
        '{"zone":"b"}',
      ]);
      await eventually(() => output().includes('registered'), 10_000, 'registered');
      expect(await raw.get(key).string()).toBe('{"zone":"b"}');
      child.kill(signal);
      expect(await exitOf(child)).toBe(0);
      expect(await raw.get(key).exists()).toBe(false);
      expect(output()).toContain(`registered ${key} on lease`);
    },
  );

  describe('with bad arguments, says what is wrong and exits 2', () => {
    it.each([
      [['bogus'], "unknown command 'bogus'"],
      [['endpoints'], "missing required argument 'service'"],
      [['register', 'web'], "missing required argument 'address'"],
      [['endpoints', 'web', '--nope'], "unknown option '--nope'"],
      [['endpoints', 'a/b'], 'Invalid service "a/b"'],
      [['register', 'web', 'a b'], 'Invalid address "a b"'],
      [['register', 'web', 'a:1', '--metadata', 'zone=a'], 'Invalid --metadata "zone=a"'],
      [['register', 'web', 'a:1', '--metadata', '[1]'], 'Invalid metadata [1]'],
    ])('gsr %j', async (args, message) => {
      const run = await gsr(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(await raw.getAll().prefix(prefix).count()).toBe(0);
    });

    it('never prints back a password put where it does not belong', async () => {
      const inEndpoint = await gsr(['services'], {
        GSR_ETCD_ENDPOINTS: 'http://root:hunter2@127.0.0.1:2379',
      });
      expect(inEndpoint.code).toBe(2);
      expect(inEndpoint.stderr).toContain('http://root:****@127.0.0.1:2379');
      const asFlag = await gsr(['services', '--etcd-password=hunter2']);
      expect(asFlag.code).toBe(2);
      expect(asFlag.stderr).toContain("unknown option '--etcd-password=****'");
      for (const run of [inEndpoint, asFlag]) {
        expect(run.stdout + run.stderr).not.toContain('hunter2');
      }
    });

    it('for a bad variable too', async () => {
      const run = await gsr(['services'], { GSR_LEASE_SECONDS: 'abc' });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        'GSR_LEASE_SECONDS: expected a whole number of at least 1, got "abc"',
      );
    });
  });

  it('prints its version without loading anything else', async () => {
    const run = await gsr(['--version']);
    expect(run.code).toBe(0);
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(run.stdout.trim()).toBe(version);
  });

  it('says on stderr that a service has no endpoints (a typo looks like an empty service)', async () => {
    await raw.put(`${prefix}services/web/a:1`).value('');
    const run = await gsr(['endpoints', 'wbe']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('gsr: no endpoints of "wbe" (services with endpoints: web)\n');
  });

  it('takes etcd’s endpoints, a user and a password file as flags, as etcdctl does', async () => {
    await raw.put(`${prefix}services/web/a:1`).value('');
    const run = await gsr(['--endpoints', etcd.endpoints.join(','), 'endpoints', 'web'], {
      GSR_ETCD_ENDPOINTS: 'http://127.0.0.1:1',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('a:1\n');
    const missing = await gsr(['--user', 'root', '--password-file', '/nonexistent', 'services']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'Invalid --password-file "/nonexistent": cannot read it (ENOENT)',
    );
  });

  it('unregisters the key a killed process left, once etcd confirmed it', async () => {
    const key = `${prefix}services/web/10.0.0.5:80`;
    await raw.put(key).value('');
    const run = await gsr(['unregister', 'web', '10.0.0.5:80']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`unregistered ${key}\n`);
    expect(await raw.get(key).exists()).toBe(false);
    const again = await gsr(['unregister', 'web', '10.0.0.5:80']);
    expect(again.code).toBe(0);
    // One thing said, not "unregistered" on stdout and "nothing" on stderr.
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe(
      'gsr: "web" lists no endpoint at 10.0.0.5:80: nothing to unregister\n',
    );
  });

  it("saves every service's list and the overrides as snapshots a host without gsr starts from", async () => {
    await raw.put(`${prefix}services/web/a:1`).value('{"zone":"z1"}');
    await raw.put(`${prefix}services/api/b:1`).value('');
    await raw.put(`${prefix}overrides/web/a:1`).value('{"state":"maintenance","reason":"r"}');
    const dir = mkdtempSync(join(tmpdir(), 'gsr-ship-'));
    try {
      const run = await gsr(['snapshot', 'save', join(dir, 'to-ship')]);
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/^saved 2 services and operators' overrides to .*to-ship\n/);
      expect(run.code).toBe(0);
      const store = new SnapshotStore(
        join(dir, 'to-ship'),
        { etcd: etcd.endpoints, keyPrefix: prefix },
        {
          maxAgeMs: 60_000,
          clock: systemClock,
          logger: {
            warn: (line) => {
              throw new Error(line);
            },
          },
        },
      );
      const text = (list: string) =>
        store
          .load(`${prefix}${list}`)
          .then((read) => read?.entries.map((e) => `${e.key.toString()}=${e.value.toString()}`));
      expect(await text('services/web/')).toEqual([`${prefix}services/web/a:1={"zone":"z1"}`]);
      expect(await text('services/api/')).toEqual([`${prefix}services/api/b:1=`]);
      expect(await text('overrides/')).toEqual([
        expect.stringMatching(
          new RegExp(`^${prefix}overrides/web/a:1={"state":"maintenance","reason":"r"`),
        ),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sorts addresses as a person reads them: 10.1.0.2 before 10.1.0.10', async () => {
    for (const address of ['10.1.0.10:80', '10.1.0.2:80', '10.1.0.2:8080', '10.1.0.2:443']) {
      await raw.put(`${prefix}services/web/${address}`).value('');
    }
    expect((await gsr(['endpoints', 'web'])).stdout).toBe(
      '10.1.0.2:80\n10.1.0.2:443\n10.1.0.2:8080\n10.1.0.10:80\n',
    );
  });

  it('says on stderr that no service has endpoints, naming where it looked', async () => {
    const run = await gsr(['services']);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(run.stderr).toBe(
      `gsr: no service has endpoints under "${prefix}" in etcd at ${etcd.endpoints.join(', ')}\n`,
    );
  });

  it('says where each setting came from: the environment, a flag, or its own default', async () => {
    const run = await gsr(['--endpoints', etcd.endpoints.join(','), 'config']);
    expect(run.code).toBe(0);
    const source = (variable: string) =>
      run.stdout
        .split('\n')
        .find((line) => line.startsWith(`${variable} `))
        ?.trim()
        .split(/\s{2,}/)
        .pop();
    expect(source('GSR_ETCD_ENDPOINTS')).toBe('--endpoints');
    expect(source('GSR_KEY_PREFIX')).toBe('environment');
    expect(source('GSR_ETCD_CONNECT_TIMEOUT_SECONDS')).toBe("gsr's default");
    expect(source('GSR_LEASE_SECONDS')).toBe('default');
    expect(run.stdout).not.toContain('command line');
  });

  it('says that a server that answers HTTP but not gRPC is likely not etcd', async () => {
    const server = http2NotFoundServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const run = await gsr(['--connect-timeout', '1', 'services'], {
      GSR_ETCD_ENDPOINTS: `127.0.0.1:${port}`,
    });
    server.close();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "the server answered HTTP 404, not gRPC: is it etcd's client URL?",
    );
  });

  it('warns of a GSR_ variable it does not read, with the one it likely meant', async () => {
    const run = await gsr(['services'], { GSR_ETCD_ENDPOINT: 'http://127.0.0.1:1' });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(
      'ignoring GSR_ETCD_ENDPOINT: gsr reads no such variable (did you mean GSR_ETCD_ENDPOINTS?)',
    );
  });

  it('gives up on an unreachable etcd after a few seconds, saying what it waits for meanwhile', async () => {
    const [port] = await freePorts(1);
    const run = await gsr(['services'], { GSR_ETCD_ENDPOINTS: `127.0.0.1:${port ?? 0}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`still trying to reach etcd at http://127.0.0.1:${port ?? 0}`);
    expect(run.stderr).toContain(
      `gsr: Could not reach etcd at http://127.0.0.1:${port ?? 0} within 5s`, // Not the library's 300 s.
    );
  });

  it('says etcd is unreachable and exits 1 after the connect timeout', async () => {
    const [port] = await freePorts(1);
    const run = await gsr(['services'], {
      GSR_ETCD_ENDPOINTS: `127.0.0.1:${port ?? 0}`,
      GSR_ETCD_CONNECT_TIMEOUT_SECONDS: '1',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `gsr: Could not reach etcd at http://127.0.0.1:${port ?? 0} within 1s`,
    );
  });

  describe("under etcd's naming layout (GSR_KEY_LAYOUT=etcd-naming)", () => {
    const naming = () => ({ GSR_KEY_LAYOUT: 'etcd-naming' });

    it('lists a target, which may hold /, from what Go wrote', async () => {
      await raw
        .put(`${prefix}prod/greeter/10.0.0.7:50051`)
        .value('{"Op":0,"Addr":"10.0.0.7:50051","Metadata":null}');
      expect(await gsr(['endpoints', 'prod/greeter'], naming())).toMatchObject({
        code: 0,
        stdout: '10.0.0.7:50051\n',
      });
    });

    it('says that it cannot list services there, and exits 2', async () => {
      const run = await gsr(['services'], naming());
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("etcd's naming layout has no services root");
    });

    it('refuses a target that is no target, before connecting', async () => {
      const run = await gsr(['endpoints', 'prod//greeter'], naming());
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Invalid target "prod//greeter": must not contain "//"');
    });
  });

  describe('prints what others wrote to etcd safely', () => {
    it('escapes what could reorder or corrupt a terminal, one endpoint per line', async () => {
      // U+202E (right-to-left override) is not whitespace or a control character: a valid address,
      // which would make a terminal show the rest of the line backwards.
      await raw.put(`${prefix}services/web/evil\u202e08:1.0.0.01`).value('{"note":"\u009b31m"}');
      const text = await gsr(['endpoints', 'web']);
      expect(text.stdout).toBe('evil\\u202e08:1.0.0.01\n');
      const json = await gsr(['endpoints', 'web', '--json']);
      expect(json.stdout).toContain('evil\\u202e08:1.0.0.01');
      expect(json.stdout).toContain('\\u009b31m');
      expect(json.stdout.split('\n')).toHaveLength(2);
    });
  });

  describe('on a closed output or an unreachable etcd', () => {
    /** Starts a command with its own stdout and stderr. */
    function spawnGsr(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
      const child = spawn(process.execPath, [bin, ...args], {
        cwd: repoRoot,
        env: { ...process.env, ...env, ...extraEnv },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return { child, stdout: () => stdout, stderr: () => stderr };
    }

    it('ends `gsr watch web | head -1` quietly when its reader goes away', async () => {
      const { child, stdout, stderr } = spawnGsr(['watch', 'web']);
      await eventually(() => stdout().includes('\n'), 10_000, 'first line');
      child.stdout.destroy(); // What `head -1` does after its line.
      await raw.put(`${prefix}services/web/a:1`).value('');
      await raw.put(`${prefix}services/web/b:1`).value('');
      expect(await exitOf(child)).toBe(0);
      expect(stderr()).toBe('');
    });

    it('still deregisters when `gsr register` has lost its output', async () => {
      const key = `${prefix}services/web/10.0.0.8:80`;
      const { child, stdout, stderr } = spawnGsr(['register', 'web', '10.0.0.8:80']);
      await eventually(() => stdout().includes('registered'), 10_000, 'registered');
      child.stdout.destroy();
      child.kill('SIGTERM');
      expect(await exitOf(child)).toBe(0);
      expect(stderr()).toBe('');
      expect(await raw.get(key).exists()).toBe(false);
    });

    /** Runs a command with its standard output on /dev/full, where every write fails (ENOSPC). */
    function onFullDisk(args: string[]) {
      const output = openSync('/dev/full', 'w');
      const child = spawn(process.execPath, [bin, ...args], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: ['ignore', output, 'pipe'],
      });
      closeSync(output);
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return { child, stderr: () => stderr };
    }

    it.each([['services'], ['endpoints', 'web'], ['config'], ['--help']])(
      'ends `gsr %s > /dev/full` (a full disk) with one line on stderr and exit 1',
      async (...args) => {
        await raw.put(`${prefix}services/web/a:1`).value('');
        const { child, stderr } = onFullDisk(args);
        expect(await exitOf(child)).toBe(1);
        expect(stderr().trim().split('\n')).toEqual([
          expect.stringMatching(/^gsr: cannot write the output: .*ENOSPC/) as string,
        ]);
      },
    );

    it('still deregisters when `gsr register` cannot write its output (a full disk)', async () => {
      const key = `${prefix}services/web/10.0.0.6:80`;
      const { child, stderr } = onFullDisk(['register', 'web', '10.0.0.6:80']);
      expect(await exitOf(child)).toBe(1);
      expect(stderr()).toMatch(/^gsr: cannot write the output: .*ENOSPC/);
      expect(stderr()).not.toMatch(/\n\s+at /); // no stack trace
      expect(await raw.get(key).exists()).toBe(false);
    });

    it('says so and exits 1 when `gsr register` could not delete its key', async () => {
      const own = await EtcdCluster.start();
      try {
        const { child, stdout, stderr } = spawnGsr(['register', 'web', '10.0.0.7:80'], {
          GSR_ETCD_ENDPOINTS: own.endpoints.join(','),
          GSR_ETCD_REQUEST_TIMEOUT_SECONDS: '0.5',
          GSR_DRAIN_DELAY_MS: '0',
        });
        await eventually(() => stdout().includes('registered'), 10_000, 'registered');
        own.members[0]?.pause();
        child.kill('SIGTERM');
        expect(await exitOf(child)).toBe(1);
        expect(stderr()).toContain('could not drain within 5000ms; deregistering anyway');
        expect(stderr()).toContain(`could not deregister ${prefix}services/web/10.0.0.7:80`);
        expect(stderr()).toContain('expire with their lease');
        expect(stdout()).not.toContain('deregistered');
      } finally {
        own.members[0]?.resume();
        await own.close();
      }
    });
  });
});
