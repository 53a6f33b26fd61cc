import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { runNode } from '../support/runNode';

// Each case runs in a process of its own, against the compiled package (npm test builds it first): the
// point is that, after close() resolves, nothing of gsr keeps the process alive.
const script = (body: string): string[] => [
  '-e',
  `const { Registry } = require('gsr'); const { firstValueFrom } = require('rxjs');
   const connect = (options = {}) => Registry.connect({ etcdEndpoints: process.env.ENDPOINTS, env: {}, ...options });
   const closedAt = () => { const at = Date.now(); process.on('exit', () => console.log('exit after ' + (Date.now() - at))); };
   (async () => { ${body} })().catch((error) => { console.log('failed: ' + error.message); process.exitCode = 3; });`,
];
const exitAfter = (stdout: string): number => Number(/exit after (\d+)/.exec(stdout)?.[1] ?? NaN);

describe('a registry after close()', () => {
  let etcd: EtcdCluster;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
    env = { ENDPOINTS: etcd.endpoints.join(',') };
  });
  afterAll(async () => {
    await etcd.close();
  });

  it('completes health$ for a subscriber that comes after close, whose probe timer then holds nothing', async () => {
    const run = await runNode(
      script(`const registry = await connect(); await registry.close(); closedAt();
        registry.health$.subscribe({ complete: () => console.log('completed') });`),
      { env },
    );
    expect(run.stdout).toContain('completed');
    expect(exitAfter(run.stdout)).toBeLessThan(1000);
  });

  it('lets the process exit at once, whatever the grace period of its watches', async () => {
    const run = await runNode(
      script(`const registry = await connect({ watchGracePeriodMs: 20000 });
        registry.endpoints$('web').subscribe(); // still subscribed when the registry closes
        await firstValueFrom(registry.endpoints$('web'));
        await firstValueFrom(registry.endpoints$('api')); // released, in its grace period
        await registry.close(); closedAt();`),
      { env },
    );
    expect(run.code).toBe(0);
    expect(exitAfter(run.stdout)).toBeLessThan(1000);
  });

  it('lets the process exit at once when etcd stopped answering, and says what it could not delete', async () => {
    const own = await EtcdCluster.start();
    try {
      const run = runNode(
        script(`const registry = await connect({ requestTimeoutSeconds: 0.5, etcdEndpoints: process.env.OWN });
          const registered = new Promise((resolve) => {
            globalThis.registration = registry.register({ service: 'web', address: 'a:1' }).subscribe(resolve);
          });
          registry.health$.subscribe();
          await registered;
          await firstValueFrom(registry.endpoints$('web'));
          console.log('ready');
          await new Promise((resolve) => process.once('SIGUSR2', resolve));
          globalThis.registration.unsubscribe();
          await registry.close().catch((error) => console.log(error.name + ': ' + error.keys.join()));
          closedAt();`),
        {
          env: { ...env, OWN: own.endpoints.join(',') },
          onStdout: (text, child) => {
            if (text.includes('ready')) {
              own.members[0]?.pause();
              setTimeout(() => child.kill('SIGUSR2'), 200);
            }
          },
        },
      );
      const done = await run;
      expect(done.stdout).toContain('EtcdUnavailableError: gsr/services/web/a:1');
      expect(exitAfter(done.stdout)).toBeLessThan(1500);
    } finally {
      own.members[0]?.resume();
      await own.close();
    }
  });

  it('gives up connecting when the caller aborts, and lets the process exit', async () => {
    const run = await runNode(
      script(`const controller = new AbortController();
        setTimeout(() => controller.abort(new Error('gave up waiting')), 300);
        const started = Date.now();
        await connect({ etcdEndpoints: '127.0.0.1:1', signal: controller.signal }).catch((error) =>
          console.log('rejected after ' + (Date.now() - started) + ': ' + error.message));
        closedAt();`),
      { env },
    );
    expect(run.stdout).toMatch(/rejected after \d+: gave up waiting/);
    expect(Number(/rejected after (\d+)/.exec(run.stdout)?.[1])).toBeLessThan(2500);
    expect(exitAfter(run.stdout)).toBeLessThan(1000);
  });
});
