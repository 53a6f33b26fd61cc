/**
 * One demo service process: `node --import tsx demo/service.ts <service> <instance> [requestIntervalMs]`.
 *
 * Every service is a small HTTP server on a loopback port that registers itself with gsr and, on
 * SIGTERM, follows the README's shutdown recipe. `web` also discovers `data-access` through
 * `endpoints$` and spreads a request every `requestIntervalMs` over its live instances with
 * `withEndpoint`, printing which instance served each one.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { concatMap, from, interval, map, type Subscription } from 'rxjs';
import { Registry, withEndpoint, type Endpoint } from '../lib';

const [service = 'background', instance = service, requestIntervalMs = '300'] =
  process.argv.slice(2);

async function main(): Promise<void> {
  const registry = await Registry.connect();
  const server = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ service, instance }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  const registration = registry
    .register({ service, address, metadata: { instance, pid: process.pid } })
    .subscribe(() => console.log(`registered as ${instance} at ${address}`));

  const served = new Map<string, number>();
  let requests: Subscription | undefined;
  if (service === 'web') {
    requests = interval(Number(requestIntervalMs))
      .pipe(
        map((i) => i + 1),
        withEndpoint(registry.endpoints$('data-access')),
        concatMap(({ value, endpoint }) =>
          from(ask(endpoint)).pipe(map((answer) => ({ value, endpoint, answer }))),
        ),
      )
      .subscribe(({ value, endpoint, answer }) => {
        const target = `${nameOf(endpoint)} (${endpoint.address})`;
        if (answer.ok) {
          served.set(answer.instance, (served.get(answer.instance) ?? 0) + 1);
          console.log(`request ${value} -> ${target}: served by ${answer.instance}`);
        } else {
          served.set('failed', (served.get('failed') ?? 0) + 1);
          console.log(`request ${value} -> ${target}: FAILED (${answer.error})`);
        }
      });
  }

  // The README's shutdown recipe.
  process.once('SIGTERM', () => {
    requests?.unsubscribe();
    registration.unsubscribe();
    server.close();
    void registry.close().then(() => {
      if (service === 'web') {
        const counts = [...served].map(([name, count]) => `${name}=${count}`).join(' ');
        console.log(`requests per instance: ${counts || '(none)'}`);
      }
      console.log('deregistered, exiting');
      process.exit(0);
    });
  });
}

async function ask(
  endpoint: Endpoint,
): Promise<{ ok: true; instance: string } | { ok: false; error: string }> {
  try {
    const response = await fetch(`http://${endpoint.address}/`, {
      signal: AbortSignal.timeout(500),
    });
    const body = (await response.json()) as { instance: string };
    return { ok: true, instance: body.instance };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, error: cause ?? (error as Error).name };
  }
}

function nameOf(endpoint: Endpoint): string {
  const name = endpoint.metadata?.instance;
  return typeof name === 'string' ? name : endpoint.address;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
