import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { requireBuild } from '../support/requireBuild';
import { repoRoot } from '../support/runNode';

const exec = promisify(execFile);

/** Runs a command; resolves with its output and exit code, never rejects on a non-zero exit. */
async function run(
  command: string,
  args: readonly string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, {
      cwd,
      timeout: 120_000,
      maxBuffer: 16 * 2 ** 20,
      env: { ...process.env, npm_config_update_notifier: 'false', NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? String(error),
    };
  }
}

const bin = (name: string): string => join(repoRoot, 'node_modules', '.bin', name);

/** The rxjs version the throwaway app depends on: an older patch than the one gsr is developed with. */
const APP_RXJS = '7.8.1';

// The package as users get it: packed, installed from the tarball into a throwaway project that has
// rxjs of its own, then loaded by plain Node from that project.
describe('the packed package, installed by a consumer', () => {
  let dir: string;
  let app: string;
  let tarball: string;
  let packedFiles: string[];

  beforeAll(async () => {
    requireBuild();
    dir = mkdtempSync(join(tmpdir(), 'gsr-consumer-'));
    // npm test has built dist/ already; prepack (which builds it from a fresh clone) would rebuild it
    // under the feet of the specs running beside this one.
    const packed = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
      repoRoot,
    );
    expect(packed.code).toBe(0);
    const [{ filename, files }] = JSON.parse(packed.stdout) as [
      { filename: string; files: { path: string }[] },
    ];
    tarball = join(dir, filename);
    packedFiles = files.map((file) => file.path);
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
    );
    // --prefer-offline: from npm's cache when it has the packages (npm ci filled it).
    const installed = await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', `rxjs@${APP_RXJS}`, tarball],
      app,
    );
    expect(installed.stderr).not.toMatch(/ERR!/);
    expect(installed.code).toBe(0);
  }, 180_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds what its README and docs link to, its changelog, and builds dist/ when packed from a fresh clone', () => {
    const pages = ['README.md', ...packedFiles.filter((file) => /^docs\/[^/]+\.md$/.test(file))];
    expect(pages.length).toBeGreaterThan(5);
    const missing: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(repoRoot, page), 'utf8');
      for (const [, target = ''] of text.matchAll(
        /\]\((?!https?:|#|mailto:)([^)\s#]+)[^)\s]*\)/g,
      )) {
        const file = posix.normalize(posix.join(posix.dirname(page), target));
        if (!packedFiles.includes(file)) {
          missing.push(`${page} -> ${target}`);
        }
      }
    }
    expect(missing).toEqual([]);
    for (const file of [
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'dist/index.js',
      'dist/cli/main.js',
    ]) {
      expect(packedFiles).toContain(file);
    }
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      keywords?: string[];
    };
    expect(manifest.scripts.prepack).toBe('npm run build');
    expect(manifest.keywords).toEqual(
      expect.arrayContaining(['etcd', 'service-discovery', 'rxjs']),
    );
  });

  it("shares the app's rxjs: one copy, and gsr's Observables are the app's", async () => {
    const listed = await run('npm', ['ls', 'rxjs', '--all', '--parseable'], app);
    const copies = listed.stdout.split('\n').filter((line) => line.includes('node_modules'));
    expect(copies).toEqual([join(app, 'node_modules', 'rxjs')]);
    const { version } = JSON.parse(
      readFileSync(join(app, 'node_modules', 'rxjs', 'package.json'), 'utf8'),
    ) as { version: string };
    expect(version).toBe(APP_RXJS);

    const check = await run(
      process.execPath,
      [
        '-e',
        "const { Observable, of } = require('rxjs'); const { Balancer } = require('gsr');" +
          'const balancer = new Balancer(of([]));' +
          'console.log(balancer.stats$(1000) instanceof Observable); balancer.close();',
      ],
      app,
    );
    expect(check).toMatchObject({ code: 0, stdout: 'true\n', stderr: '' });
  });

  it('loads gsr, gsr/grpc, gsr/testing, gsr/ui, gsr/http-sd, gsr/xds, gsr/orca and gsr/undici with require and with import', async () => {
    const required = await run(
      process.execPath,
      [
        '-e',
        "const gsr = require('gsr'), grpc = require('gsr/grpc'), testing = require('gsr/testing');" +
          "const ui = require('gsr/ui'), httpSd = require('gsr/http-sd'), xds = require('gsr/xds'), orca = require('gsr/orca'), undici = require('gsr/undici');" +
          'console.log(typeof gsr.Registry.connect, typeof grpc.installGrpcResolver, typeof testing.EtcdCluster.start, typeof ui.createDashboardHandler, typeof httpSd.createHttpSdHandler, typeof xds.createXdsServer, typeof orca.OrcaRecorder, typeof undici.gsrInterceptor)',
      ],
      app,
    );
    expect(required).toMatchObject({
      code: 0,
      stdout: 'function function function function function function function function\n',
      stderr: '',
    });
    const imported = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { Registry } from 'gsr'; import { installGrpcResolver } from 'gsr/grpc';" +
          "import { EtcdCluster } from 'gsr/testing'; import { createDashboardHandler } from 'gsr/ui';" +
          "import { createHttpSdHandler } from 'gsr/http-sd'; import { createXdsServer } from 'gsr/xds';" +
          "import { OrcaRecorder } from 'gsr/orca'; import { gsrInterceptor } from 'gsr/undici';" +
          'console.log(typeof Registry.connect, typeof installGrpcResolver, typeof EtcdCluster.start, typeof createDashboardHandler, typeof createHttpSdHandler, typeof createXdsServer, typeof OrcaRecorder, typeof gsrInterceptor)',
      ],
      app,
    );
    expect(imported).toMatchObject({
      code: 0,
      stdout: 'function function function function function function function function\n',
      stderr: '',
    });
  });

  it('says what gsr/xds needs when its optional peer @grpc/grpc-js-xds is not installed', async () => {
    const check = await run(
      process.execPath,
      [
        '-e',
        "require('gsr/xds').createXdsServer({}).catch((error) => console.log(error.name, error.message));",
      ],
      app,
    );
    expect(check.stdout).toContain(
      "PreconditionError Cannot load gsr/xds: it needs the package @grpc/grpc-js-xds for Envoy's protos: npm install @grpc/grpc-js-xds",
    );
  });

  it('says what gsr/undici needs when its optional peer undici is not installed', async () => {
    const check = await run(
      process.execPath,
      [
        '-e',
        "try { require('gsr/undici').gsrInterceptor({}) } catch (error) { console.log(error.name, error.message) }",
      ],
      app,
    );
    expect(check.stdout).toContain(
      'PreconditionError Cannot load gsr/undici: it needs the package undici (7): npm install undici',
    );
  });

  it('passes publint and "are the types wrong?" (every entry point, every resolution mode)', async () => {
    const lint = await run(bin('publint'), ['run', tarball, '--strict'], dir);
    expect(lint.stdout + lint.stderr).toContain('All good!');
    expect(lint.code).toBe(0);
    const types = await run(bin('attw'), [tarball, '--format', 'ascii', '--no-color'], dir);
    expect(types.stdout + types.stderr).toContain('No problems found');
    expect(types.code).toBe(0);
  });

  it('runs its CLI with npx gsr', async () => {
    const help = await run('npx', ['--no-install', 'gsr', '--help'], app);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gsr /m);
  });

  it("recognises another copy's errors with its guards (brands, not instanceof)", async () => {
    // This project's build and the consumer's installed copy: two copies, as in a monorepo or a plugin.
    const script = `
      const here = require(${JSON.stringify(repoRoot)});
      const there = require('gsr');
      const cause = new Error('cause');
      const args = {
        AuthenticationError: ['svc', cause],
        ConfigError: [[{ variable: 'GSR_LEASE_SECONDS', value: '0', reason: 'too small' }]],
        ConnectError: [['127.0.0.1:2379'], 1, cause],
        EtcdRefusedError: ['register', 'k', cause],
        EtcdUnavailableError: ['register', cause],
        NoEndpointError: [10, 'timeout'],
        PermissionDeniedError: ['read', 'k', cause],
        PreconditionError: ['drain web', 'full', 'address'],
        RegistryClosedError: ['watch'],
        StrategyError: ['threw', cause],
        TlsError: [['127.0.0.1:2379'], cause],
        ValidationError: ['service', '', 'empty'],
      };
      const classes = Object.keys(here).filter((name) => here[name]?.prototype instanceof Error);
      const guards = classes.filter((name) => typeof here['is' + name] === 'function').map((name) => 'is' + name);
      const result = guards.map((guard) => {
        const name = guard.slice(2);
        const theirs = Reflect.construct(there[name], args[name]);
        const others = Object.keys(args).filter((other) => other !== name);
        return {
          name,
          acceptsTheirs: here[guard](theirs),
          acceptsOurs: here[guard](Reflect.construct(here[name], args[name])),
          rejectsOthers: others.every((other) => !here[guard](Reflect.construct(there[other], args[other]))),
          instanceOf: theirs instanceof here[name],
        };
      });
      console.log(JSON.stringify({ classes: classes.sort(), covered: Object.keys(args).sort(), guards: guards.map((g) => g.slice(2)).sort(), result }));
    `;
    const checked = await run(process.execPath, ['-e', script], app);
    expect(checked.stderr).toBe('');
    const { classes, covered, guards, result } = JSON.parse(checked.stdout) as {
      classes: string[];
      covered: string[];
      guards: string[];
      result: { name: string; instanceOf: boolean }[];
    };
    // Every error class exported has a guard, and this test covers it.
    expect(guards).toEqual(classes);
    expect(covered).toEqual(classes);
    for (const entry of result) {
      // instanceof fails across the copies (so the copies are distinct); the guards do not.
      expect(entry).toEqual({
        name: entry.name,
        acceptsTheirs: true,
        acceptsOurs: true,
        rejectsOthers: true,
        instanceOf: false,
      });
    }
  });
});
