import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually } from '../support/observe';
import { repoRoot, runNode, type NodeRun } from '../support/runNode';
import { requireBuild } from '../support/requireBuild';
import { uniquePrefix } from '../support/testRegistries';

const bin = join(repoRoot, 'dist', 'cli', 'main.js');

describe('the gsr command, for deploys and operators', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  let env: NodeJS.ProcessEnv;
  let prefix: string;

  const gsr = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<NodeRun> =>
    runNode([bin, ...args], { env: { ...env, ...extraEnv } });

  beforeAll(async () => {
    requireBuild();
    etcd = await EtcdCluster.start();
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  beforeEach(async () => {
    prefix = uniquePrefix();
    env = { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: prefix };
    await raw.put(`${prefix}services/web/10.0.0.1:80`).value('');
    await raw.put(`${prefix}services/web/10.0.0.2:80`).value('{"gsr.state":"draining"}');
  });
  afterAll(async () => {
    raw.close();
    await etcd.close();
  });

  it('drains an endpoint as an operator, shows it with its reason and age, and undrains it', async () => {
    expect((await gsr(['endpoints', 'web'])).stdout).toBe('10.0.0.1:80\n10.0.0.2:80 [draining]\n');
    const drained = await gsr(['drain', 'web', '10.0.0.1:80', '--reason', 'disk swap']);
    expect(drained).toMatchObject({ code: 0, stderr: '' });
    expect(drained.stdout).toBe('web 10.0.0.1:80 is in maintenance until gsr undrain\n');
    const override = await raw.get(`${prefix}overrides/web/10.0.0.1:80`).string();
    expect(JSON.parse(override ?? '')).toMatchObject({ state: 'maintenance', reason: 'disk swap' });
    // The instance's own key is untouched.
    expect(await raw.get(`${prefix}services/web/10.0.0.1:80`).string()).toBe('');

    const listed = await gsr(['endpoints', 'web']);
    expect(listed.stdout).toMatch(
      /^10\.0\.0\.1:80 \[maintenance: "disk swap", set \d+s ago\]\n10\.0\.0\.2:80 \[draining\]\n$/,
    );
    const json = JSON.parse((await gsr(['endpoints', 'web', '--json'])).stdout) as unknown[];
    expect(json[0]).toMatchObject({ state: 'maintenance', maintenance: { reason: 'disk swap' } });
    expect((await gsr(['overrides'])).stdout).toMatch(
      /^web 10\.0\.0\.1:80 \[maintenance: "disk swap", set \d+s ago\]\n$/,
    );

    // It outlives the endpoint, and says so.
    await raw.delete().key(`${prefix}services/web/10.0.0.1:80`);
    expect((await gsr(['overrides'])).stdout).toMatch(/ \(not listed now\)\n$/);

    expect(await gsr(['undrain', 'web', '10.0.0.1:80'])).toMatchObject({
      code: 0,
      stdout: 'web 10.0.0.1:80 takes calls again\n',
    });
    expect(await raw.get(`${prefix}overrides/web/10.0.0.1:80`).string()).toBeNull();
    const again = await gsr(['undrain', 'web', '10.0.0.1:80']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(''); // not "takes calls again" beside "nothing changed"
    expect(again.stderr).toBe('gsr: web 10.0.0.1:80 was not in maintenance: nothing changed\n');
    const none = await gsr(['overrides']);
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toContain('no endpoint is in maintenance');
  });

  it('refuses an unknown service, a malformed address or one not listed, exit 2, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['drain', 'nosuch', '10.0.0.1:80'], /address.*"nosuch" has no endpoints.*--force/],
      [['drain', 'web', '10.0.0.9:80'], /"web" lists no endpoint at it.*--force/],
      [['drain', 'web', 'no-port'], /address.*host:port/],
      [['drain', 'web', '10.0.0.1:80', '--reason', 'a\u0007b'], /reason.*control/],
      [['undrain', 'web', 'a/b'], /address/],
    ];
    for (const [args, message] of cases) {
      const run = await gsr(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    }
    // An address the service does not list is no invalid input: it cannot be drained now.
    expect((await gsr(['drain', 'nosuch', '10.0.0.1:80'])).stderr).toBe(
      'gsr: Cannot drain address 10.0.0.1:80 of "nosuch": "nosuch" has no endpoints (an unknown service?); --force drains it all the same\n',
    );
    expect(await raw.getAll().prefix(`${prefix}overrides/`).keys()).toEqual([]);
    expect((await gsr(['drain', 'web', '10.0.0.9:80', '--force'])).code).toBe(0);
    expect((await gsr(['overrides'])).stdout).toContain('10.0.0.9:80');
  });

  /** Writes `count` overrides (or endpoints) under `root`, `<service>/<address>` as `name(i)` says. */
  async function writeMany(count: number, name: (i: number) => string, value: string) {
    for (let i = 0; i < count; i += 128) {
      await Promise.all(
        Array.from({ length: Math.min(128, count - i) }, (_, j) =>
          raw.put(`${prefix}${name(i + j)}`).value(value),
        ),
      );
    }
  }
  const junk = JSON.stringify({ state: 'maintenance', reason: 'years ago' });
  const address = (i: number) => `10.9.${i >> 8}.${i & 255}:80`;

  it("drains past other services' overrides, and refuses one more than a service may hold (exit 1)", async () => {
    await writeMany(10_000, (i) => `overrides/junk/${address(i)}`, junk);
    const drained = await gsr(['drain', 'web', '10.0.0.1:80', '--reason', 'disk']);
    expect(drained).toMatchObject({ code: 0, stderr: '' });
    expect((await gsr(['endpoints', 'web'])).stdout).toMatch(
      /^10\.0\.0\.1:80 \[maintenance: "disk"/,
    );

    await writeMany(9_999, (i) => `overrides/web/${address(i)}`, junk);
    const refused = await gsr(['drain', 'web', '10.0.0.2:80']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      'Cannot put web 10.0.0.2:80 in maintenance: "web" holds 10000 overrides, the most gsr applies to one service (10000)',
    );
    expect(await raw.get(`${prefix}overrides/web/10.0.0.2:80`).string()).toBeNull();
    // What applied still applies, whatever order the overrides were written in.
    expect((await gsr(['endpoints', 'web'])).stdout).toMatch(
      /^10\.0\.0\.1:80 \[maintenance: "disk"/,
    );
  });

  it('lists a thousand overrides with one read of them and one of each service', async () => {
    await writeMany(1000, (i) => `overrides/svc-${i}/10.0.0.1:80`, junk);
    await writeMany(500, (i) => `services/svc-${i * 2}/10.0.0.1:80`, '');
    const member = etcd.members[0] as (typeof etcd.members)[number];
    const before = await member.requestsByMethod();
    const run = await gsr(['overrides']);
    const after = await member.requestsByMethod();
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1000);
    expect(lines.filter((line) => line.endsWith('(not listed now)'))).toHaveLength(500);
    expect((after.Range ?? 0) - (before.Range ?? 0)).toBeLessThanOrEqual(1000 + 5);
  });

  it('prints a hostile override escaped, one line each', async () => {
    await raw
      .put(`${prefix}overrides/web/10.0.0.1:80`)
      .value(JSON.stringify({ state: 'maintenance', reason: 'x\u001b[2J\ny', since: 'junk' }));
    const run = await gsr(['endpoints', 'web']);
    expect(run.stdout).toBe(
      '10.0.0.1:80 [maintenance: "x\\u001b[2J\\u000ay", set at an unknown time]\n10.0.0.2:80 [draining]\n',
    );
  });

  it('drains on SIGTERM before it deregisters: the key says draining for GSR_DRAIN_DELAY_MS', async () => {
    const child = spawn(process.execPath, [bin, 'register', 'api', '127.0.0.1:8080'], {
      cwd: repoRoot,
      env: { ...process.env, ...env, GSR_DRAIN_DELAY_MS: '1500' },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const key = `${prefix}services/api/127.0.0.1:8080`;
    await eventually(() => out.includes('registered'), 10_000, 'registered');
    expect(await raw.get(key).string()).toBe('');
    child.kill('SIGTERM');
    await eventually(
      async () => (await raw.get(key).string()) === '{"gsr.state":"draining"}',
      5000,
      'draining',
    );
    expect(await exited).toBe(0);
    expect(out).toMatch(/SIGTERM: draining\n[^]*SIGTERM: deregistering\nderegistered\n$/);
    expect(await raw.get(key).string()).toBeNull();
  });

  it('cuts the drain short on Ctrl-C and deregisters at once, as the README says', async () => {
    const child = spawn(process.execPath, [bin, 'register', 'api', '127.0.0.1:8081'], {
      cwd: repoRoot,
      env: { ...process.env, ...env, GSR_DRAIN_DELAY_MS: '600000' },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const key = `${prefix}services/api/127.0.0.1:8081`;
    await eventually(() => out.includes('registered'), 10_000, 'registered');
    child.kill('SIGTERM');
    await eventually(
      async () => (await raw.get(key).string()) === '{"gsr.state":"draining"}',
      5000,
      'draining',
    );
    child.kill('SIGINT'); // the first Ctrl-C, ten minutes before the drain would end
    expect(await exited).toBe(0);
    expect(out).toMatch(
      /SIGTERM: draining\n[^]*SIGINT: drain cut short\nSIGTERM: deregistering\nderegistered\n$/,
    );
    expect(await raw.get(key).string()).toBeNull();
  });
});
