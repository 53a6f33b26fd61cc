/**
 * `npm run demo`: the Go gsr README's scenario, live. Three services, `web`, `data-access` and
 * `background`, each a real HTTP server process that registers itself; `web` load-balances requests over
 * the live `data-access` instances it discovers. The demo scales `data-access` up, kills one instance
 * hard and stops another gracefully, and prints every change of the registry and which instance served
 * each request. It checks that each step happened, stops everything it started, and exits 0.
 *
 * Without GSR_ETCD_ENDPOINTS it starts a throwaway etcd of its own. `--fast` shortens the pauses.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from '../lib';
import { EtcdCluster } from '../lib/testing';
import { holds, RegistryView } from './RegistryView';
import { ServiceProcess } from './ServiceProcess';

const fast = process.argv.includes('--fast');
const pause = (ms: number) => sleep(fast ? ms / 2 : ms);
const started = Date.now();
const print = (line: string): void => {
  console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s ${line}`);
};
const step = (line: string): void => print(`== ${line}`);

async function main(): Promise<void> {
  const leaseSeconds = fast ? 2 : 3;
  const own = process.env.GSR_ETCD_ENDPOINTS === undefined ? await EtcdCluster.start() : undefined;
  // Against someone's real etcd, stay out of the way of real services under gsr/.
  const keyPrefix = process.env.GSR_KEY_PREFIX ?? (own ? 'gsr/' : 'gsr-demo/');
  const env = {
    GSR_ETCD_ENDPOINTS: own?.endpoints.join(',') ?? process.env.GSR_ETCD_ENDPOINTS,
    GSR_KEY_PREFIX: keyPrefix,
    GSR_LEASE_SECONDS: String(leaseSeconds),
  };
  step(
    own
      ? `started a throwaway etcd at ${own.endpoints.join(', ')}`
      : `using the etcd at ${env.GSR_ETCD_ENDPOINTS ?? ''}`,
  );
  step(`key prefix ${keyPrefix}, lease TTL ${leaseSeconds}s`);

  const registry = await Registry.connect({ env: { ...process.env, ...env } });
  const view = new RegistryView(registry, ['web', 'data-access', 'background'], print);
  const running = new Set<ServiceProcess>();
  const launch = (service: string, instance: string, args: string[] = []): ServiceProcess => {
    const child = new ServiceProcess(service, instance, env, print, args);
    running.add(child);
    void child.exited.then(() => running.delete(child));
    return child;
  };

  try {
    step('starting background, data-access-1, data-access-2 and web');
    launch('background', 'background-1');
    const first = launch('data-access', 'data-access-1');
    const second = launch('data-access', 'data-access-2');
    launch('web', 'web-1', [String(fast ? 150 : 300)]);
    await view.until('data-access', (l) => l.length === 2, 20_000, 'two data-access instances');
    await view.until('web', (l) => l.length === 1, 20_000, 'web to register');
    await view.until('background', (l) => l.length === 1, 20_000, 'background to register');
    await pause(2500);

    step('scaling data-access up: starting data-access-3');
    launch('data-access', 'data-access-3');
    await view.until('data-access', holds('data-access-3'), 20_000, 'data-access-3 to register');
    await pause(2500);

    step(
      `killing data-access-1 hard (SIGKILL): it cannot deregister, so its endpoint stays until the lease expires (${leaseSeconds}s)`,
    );
    const killedAt = Date.now();
    await first.signal('SIGKILL');
    await view.until(
      'data-access',
      (l) => !holds('data-access-1')(l),
      (leaseSeconds + 5) * 1000,
      'data-access-1 to disappear after its lease expired',
    );
    step(`data-access-1 is gone, ${((Date.now() - killedAt) / 1000).toFixed(1)}s after SIGKILL`);
    await pause(2000);

    step('stopping data-access-2 gracefully (SIGTERM): it deregisters before it exits');
    const termAt = Date.now();
    const code = await second.signal('SIGTERM');
    await view.until(
      'data-access',
      (l) => !holds('data-access-2')(l),
      2000,
      'data-access-2 to disappear at once',
    );
    step(
      `data-access-2 exited with ${String(code)} and is gone, ${((Date.now() - termAt) / 1000).toFixed(1)}s after SIGTERM`,
    );
    await pause(2000);

    step('shutting everything down gracefully');
    await Promise.all([...running].map((child) => child.signal('SIGTERM')));
    await view.until('data-access', (l) => l.length === 0, 5000, 'an empty registry');
    await view.until('web', (l) => l.length === 0, 5000, 'an empty registry');
    await view.until('background', (l) => l.length === 0, 5000, 'an empty registry');
    step('done: every service deregistered');
  } finally {
    await Promise.all([...running].map((child) => child.signal('SIGKILL')));
    view.close();
    await registry.close();
    await own?.close();
  }
}

main().catch((error: unknown) => {
  print(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
