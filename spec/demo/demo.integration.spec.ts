import { Etcd3 } from 'etcd3';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { runNode } from '../support/runNode';

const demo = (
  env: NodeJS.ProcessEnv = {},
  args: string[] = [],
  onStdout?: (text: string) => void,
) =>
  runNode(['--import', 'tsx', 'demo/main.ts', '--fast', ...args], {
    env: { GSR_ETCD_ENDPOINTS: undefined, GSR_KEY_PREFIX: undefined, ...env },
    timeoutMs: 60_000,
    ...(onStdout && { onStdout }),
  });

describe('npm run demo (fast)', () => {
  it('plays the whole scenario with its own etcd and exits 0, with the dashboard (--ui)', async () => {
    let page: Promise<string> | undefined;
    const run = await demo({}, ['--ui'], (text) => {
      const url = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)?.[1];
      if (url !== undefined) {
        page = fetch(url).then((response) => response.text());
      }
    });
    expect(await page).toContain('<title>gsr registry</title>');
    expect(run.stdout).not.toContain('demo failed');
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out).toContain('== started a throwaway etcd at http://127.0.0.1:');
    expect(out).toMatch(
      /\[registry\] data-access: data-access-\d@127\.0\.0\.1:\d+, data-access-\d@/,
    );
    // web spread its requests over more than one live instance...
    expect(out).toMatch(/served by data-access-1/);
    expect(out).toMatch(/served by data-access-2/);
    expect(out).toMatch(/served by data-access-3/);
    // ...the killed instance went away only after its lease expired...
    expect(out).toMatch(/data-access-\d is gone, \d+\.\ds after SIGKILL/);
    // ...meanwhile web's balancer lost no request: it retried elsewhere and ejected the dead one...
    expect(out).toMatch(/meanwhile web served [1-9]\d* requests, 0 failed/);
    // ...ejecting it at its first refused connection, or never picking it again after it failed.
    expect(out).toMatch(
      /\[web-1\] balancer: ejected 127\.0\.0\.1:\d+ for \d+ms: it refused a connection|web's balancer did not pick data-access-\d again after it failed/,
    );
    expect(out).not.toContain('FAILED');
    // ...and moved its requests away from the instance made slow.
    const slowShare = Number(/of the next \d+ requests it served (\d+)%/.exec(out)?.[1]);
    expect(slowShare).toBeLessThanOrEqual(20);
    // ...and the one stopped gracefully was listed draining first, and not one call to it failed.
    expect(out).toMatch(/\[registry\] data-access: .*data-access-\d@127\.0\.0\.1:\d+ \(draining\)/);
    expect(out).toMatch(
      /data-access-\d exited with 0 and is gone, [\d.]+s after SIGTERM; meanwhile web served [1-9]\d* requests, 0 failed, and no attempt needed a retry \(0 did\)/,
    );
    expect(out).toMatch(
      /== what Prometheus would scrape, from gsr's HTTP service discovery \(gsr http-sd\): background 127\.0\.0\.1:\d+ \[serving\], data-access 127\.0\.0\.1:\d+ \[serving\], web 127\.0\.0\.1:\d+ \[serving\]\n/,
    );
    expect(out).toContain('== done: every service deregistered');
  });

  it('uses a configured etcd, under a prefix of its own, and leaves nothing behind', async () => {
    const etcd = await EtcdCluster.start();
    try {
      const run = await demo({ GSR_ETCD_ENDPOINTS: etcd.endpoints.join(',') });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`== using the etcd at ${etcd.endpoints.join(',')}`);
      expect(run.stdout).toContain('== key prefix gsr-demo/');
      const client = new Etcd3({ hosts: etcd.endpoints });
      expect(await client.getAll().prefix('').count()).toBe(0);
      client.close();
    } finally {
      await etcd.close();
    }
  });
});
