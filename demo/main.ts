/**
 * `npm run demo`: the Go gsr README's scenario, live. Three services, `web`, `data-access` and
 * `background`, each a real HTTP server process that registers itself; `web` load-balances requests over
 * the live `data-access` instances it discovers, through a `Balancer` that learns from each request. The
 * demo scales `data-access` up, kills one instance hard (no request fails: the balancer retries and
 * ejects it), makes one slow (the latency strategy moves traffic away) and stops another gracefully
 * (drained first: not one call fails, none is retried), and prints every change of the registry and
 * which instance served each request; last, what Prometheus would scrape, from gsr's HTTP service
 * discovery. It checks that each step happened, stops everything it started, and exits 0.
 *
 * Without GSR_ETCD_ENDPOINTS it starts a throwaway etcd of its own. `--fast` shortens the pauses; `--ui`
 * also serves the dashboard (`gsr ui`'s) and prints its URL, so that every step can be watched live.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from '../lib';
import { EtcdCluster } from '../lib/testing';
import { createHttpSdHandler, type TargetGroup } from '../lib/http-sd';
import { createDashboardHandler, type DashboardHandler } from '../lib/ui';
import { holds, RegistryView } from './RegistryView';
import { ServiceProcess } from './ServiceProcess';

const fast = process.argv.includes('--fast');
const ui = process.argv.includes('--ui');
/** Where `--ui` serves the dashboard: `gsr ui`'s port, or any free one when it is taken. */
const UI_PORT = 7700;
const pause = (ms: number) => sleep(fast ? ms / 2 : ms);
const started = Date.now();
/** Everything printed, for the checks: what web said about its requests. */
const lines: string[] = [];
const print = (line: string): void => {
  lines.push(line);
  console.log(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s ${line}`);
};
/** Which instance served each of web's requests printed since line `from` (`FAILED` for a failure). */
const servedSince = (from: number): string[] =>
  lines
    .slice(from)
    .map((line) => /^\[web-1\] request \d+: (?:served by (\S+)|(FAILED))/.exec(line))
    .flatMap((match) => (match === null ? [] : [match[1] ?? 'FAILED']));
/** Throws unless `ok`: the demo checks that each step did what it says. */
const check = (ok: boolean, what: string): void => {
  if (!ok) {
    throw new Error(`the demo expected ${what}, and it did not happen`);
  }
};
const step = (line: string): void => print(`== ${line}`);
/** Resolves once `condition` holds, or after `timeoutMs` (the step's check then says what it saw). */
async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await sleep(50);
  }
}

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
  const dashboard = ui ? await serveDashboard(registry) : undefined;
  if (dashboard !== undefined) {
    step(`dashboard: ${dashboard.url} (open it now: the demo starts in 5s)`);
    await sleep(fast ? 1000 : 5000);
  }
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
    const instances = new Map<string, ServiceProcess>();
    instances.set('data-access-1', launch('data-access', 'data-access-1'));
    instances.set('data-access-2', launch('data-access', 'data-access-2'));
    launch('web', 'web-1', [String(fast ? 150 : 300)]);
    await view.until('data-access', (l) => l.length === 2, 20_000, 'two data-access instances');
    await view.until('web', (l) => l.length === 1, 20_000, 'web to register');
    await view.until('background', (l) => l.length === 1, 20_000, 'background to register');
    await pause(2500);

    step('scaling data-access up: starting data-access-3');
    const beforeScaling = lines.length;
    instances.set('data-access-3', launch('data-access', 'data-access-3'));
    await view.until('data-access', holds('data-access-3'), 20_000, 'data-access-3 to register');
    await pause(2500);

    // The instance web leans on most right now (its latency strategy prefers the fastest): the one
    // whose crash web would feel first.
    const recent = servedSince(beforeScaling);
    const [victim, slowOne, stopOne] = [...instances.keys()].sort(
      (a, b) => recent.filter((s) => s === b).length - recent.filter((s) => s === a).length,
    ) as [string, string, string];
    step(
      `killing ${victim}, the instance web uses most, hard (SIGKILL): its endpoint stays in etcd until the lease expires (${leaseSeconds}s), but web's balancer retries a refused request elsewhere and ejects it at once`,
    );
    const killedAt = Date.now();
    const beforeKill = lines.length;
    await instances.get(victim)?.signal('SIGKILL');
    await view.until(
      'data-access',
      (l) => !holds(victim)(l),
      (leaseSeconds + 5) * 1000,
      `${victim} to disappear after its lease expired`,
    );
    const duringKill = servedSince(beforeKill);
    step(
      `${victim} is gone, ${((Date.now() - killedAt) / 1000).toFixed(1)}s after SIGKILL; meanwhile web served ${duringKill.length} requests, ${duringKill.filter((s) => s === 'FAILED').length} failed`,
    );
    check(
      duringKill.length > 0 && !duringKill.includes('FAILED'),
      'no failed request after the kill',
    );
    // It is ejected at its first refused connection; unless the balancer, having seen it fail, did
    // not pick it again before its lease expired (the latency strategy may prefer the others).
    const ejected = lines.slice(beforeKill).some((line) => line.includes('balancer: ejected'));
    step(
      ejected
        ? `web's balancer ejected ${victim} when it refused a connection`
        : `web's balancer did not pick ${victim} again after it failed`,
    );
    check(ejected || !duringKill.slice(1).includes(victim), `web to eject ${victim} or avoid it`);
    await pause(2000);

    step(`making ${slowOne} slow (100x): web's latency strategy moves its requests to ${stopOne}`);
    const beforeSlow = lines.length;
    const slowAt = Date.now();
    instances.get(slowOne)?.send('SIGUSR2');
    // The balancer moves once the slow answers outweigh what it last measured of the other instance
    // (a peak that fades over 10 s): at once, or after a few seconds when the other's last answer was
    // slow too (a cold start). Then, bar a rare probe, it stays away.
    const moved = (): boolean =>
      servedSince(beforeSlow).slice(-3).join() === Array(3).fill(stopOne).join();
    await until(moved, 15_000);
    const movedAfter = ((Date.now() - slowAt) / 1000).toFixed(1);
    const beforeCount = lines.length;
    await until(() => servedSince(beforeCount).length >= 10, 15_000);
    const whileSlow = servedSince(beforeCount);
    const slowShare = whileSlow.filter((s) => s === slowOne).length / whileSlow.length;
    step(
      `web moved away from ${slowOne} ${movedAfter}s after it became slow; of the next ${whileSlow.length} requests it served ${Math.round(slowShare * 100)}%, ${stopOne} the rest`,
    );
    check(whileSlow.length > 0 && slowShare <= 0.2, 'the slow instance to get at most a fifth');
    await pause(1000);

    step(
      `stopping ${stopOne} gracefully (SIGTERM): it drains (clients stop picking it), finishes what it has, then deregisters`,
    );
    const termAt = Date.now();
    const beforeTerm = lines.length;
    const stopped = instances.get(stopOne)?.signal('SIGTERM');
    await view.until(
      'data-access',
      (l) => l.some((e) => holds(stopOne)([e]) && e.state === 'draining'),
      5000,
      `${stopOne} to be listed draining`,
    );
    step(`${stopOne} is draining, ${((Date.now() - termAt) / 1000).toFixed(1)}s after SIGTERM`);
    const code = await stopped;
    await view.until(
      'data-access',
      (l) => !holds(stopOne)(l),
      2000,
      `${stopOne} to disappear at once`,
    );
    await pause(1000);
    const duringStop = servedSince(beforeTerm);
    const failedAttempts = lines
      .slice(beforeTerm)
      .filter((line) => line.includes(`${stopOne} failed`)).length;
    step(
      `${stopOne} exited with ${String(code)} and is gone, ${((Date.now() - termAt) / 1000).toFixed(1)}s after SIGTERM; meanwhile web served ${duringStop.length} requests, ${duringStop.filter((s) => s === 'FAILED').length} failed, and no attempt needed a retry (${failedAttempts} did)`,
    );
    check(
      duringStop.length > 0 && !duringStop.includes('FAILED') && failedAttempts === 0,
      'no failed call, and no retry, while an instance drained and stopped',
    );
    await pause(2000);

    const targets = await prometheusTargets(registry);
    step(
      `what Prometheus would scrape, from gsr's HTTP service discovery (gsr http-sd): ${targets.join(', ')}`,
    );
    check(targets.length === 3, 'one target of each service in the HTTP service discovery');
    await pause(1000);

    step('shutting everything down gracefully');
    await Promise.all([...running].map((child) => child.signal('SIGTERM')));
    await view.until('data-access', (l) => l.length === 0, 5000, 'an empty registry');
    await view.until('web', (l) => l.length === 0, 5000, 'an empty registry');
    await view.until('background', (l) => l.length === 0, 5000, 'an empty registry');
    step('done: every service deregistered');
  } finally {
    await Promise.all([...running].map((child) => child.signal('SIGKILL')));
    dashboard?.close();
    view.close();
    await registry.close();
    await own?.close();
  }
}

/** Serves the dashboard of `registry` on loopback, as `gsr ui` does. */
async function serveDashboard(
  registry: Registry,
): Promise<{ readonly url: string; close(): void }> {
  const handler: DashboardHandler = createDashboardHandler(registry);
  const listen = async (port: number): Promise<Server> => {
    const server = createServer(handler).listen(port, '127.0.0.1');
    await once(server, 'listening');
    return server;
  };
  const server = await listen(UI_PORT).catch(() => listen(0));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => {
      handler.close();
      server.close();
      server.closeAllConnections();
    },
  };
}

/**
 * The targets Prometheus' `http_sd_configs` would get from `registry` now, as `<service> <address>
 * [<state>]`: what `gsr http-sd` serves, from a handler mounted on a loopback port for one request.
 */
async function prometheusTargets(registry: Registry): Promise<string[]> {
  const handler = createHttpSdHandler(registry);
  const server = createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const groups = (await (await fetch(url)).json()) as TargetGroup[];
    return groups.flatMap(({ targets, labels }) =>
      targets.map(
        (target) => `${labels.__meta_gsr_service} ${target} [${labels.__meta_gsr_state}]`,
      ),
    );
  } finally {
    handler.close();
    server.close();
    server.closeAllConnections();
  }
}

main().catch((error: unknown) => {
  print(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
