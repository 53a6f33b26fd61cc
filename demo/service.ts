/**
 * One demo service process: `node --import tsx demo/service.ts <service> <instance> [requestIntervalMs]`.
 *
 * Every service is a small HTTP server on a loopback port that registers itself with gsr and, on
 * SIGTERM, follows the README's shutdown recipe (drain, `server.close()`, `registry.close()`). `data-access` answers in ~1 ms, and 100× slower once it
 * gets SIGUSR2. `web` discovers `data-access` through `endpoints$` and sends it a request every
 * `requestIntervalMs` through a `Balancer` (the latency strategy; retries and ejection as by default),
 * printing which instance served each one, and what the balancer did about failures.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { interval, type Subscription } from 'rxjs';
import winston from 'winston';
import { attemptsOf, Balancer, type Endpoint, Registry } from '../lib';

const [service = 'background', instance = service, requestIntervalMs = '300'] =
  process.argv.slice(2);
const SLOW_MS = 200;

async function main(): Promise<void> {
  const registry = await Registry.connect();
  let delayMs = 2;
  process.on('SIGUSR2', () => {
    delayMs = SLOW_MS;
    console.log(`now answering in ${SLOW_MS}ms (100x slower)`);
  });
  const server = createServer((_request, response) => {
    setTimeout(() => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ service, instance }));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  registry
    .register({ service, address, metadata: { instance, pid: process.pid } })
    .subscribe((registered) =>
      console.log(
        registered.state === 'serving'
          ? `registered as ${instance} at ${address}`
          : `listed as ${registered.state} now`,
      ),
    );

  const served = new Map<string, number>();
  let requests: Subscription | undefined;
  let balancer: Balancer | undefined;
  if (service === 'web') {
    balancer = new Balancer(registry.endpoints$('data-access'), {
      strategy: 'latency',
      // What the balancer decides (ejections, readmissions), as plain lines of this process.
      logger: winston.createLogger({
        level: 'info',
        format: winston.format.printf((info) => String(info.message)),
        transports: [
          // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston types transports as interface + constructor
          new winston.transports.Stream({ stream: process.stdout }),
        ],
      }),
    });
    const calls = balancer;
    let count = 0;
    requests = interval(Number(requestIntervalMs)).subscribe(() => {
      const request = ++count;
      const started = performance.now();
      calls.call(ask).then(
        (answer) => {
          served.set(answer, (served.get(answer) ?? 0) + 1);
          const ms = Math.round(performance.now() - started);
          console.log(`request ${request}: served by ${answer} in ${ms}ms`);
        },
        (error: unknown) => {
          served.set('failed', (served.get('failed') ?? 0) + 1);
          const tried = attemptsOf(error).map((attempt) => nameOf(attempt.endpoint));
          console.log(`request ${request}: FAILED (${reason(error)}) after ${tried.join(', ')}`);
        },
      );
    });
  }

  // The README's shutdown recipe: drain, stop accepting and finish what is in flight, close.
  process.once('SIGTERM', () => {
    void (async () => {
      requests?.unsubscribe();
      balancer?.close();
      await registry.drain(); // Marked draining in etcd; clients have had time to see it.
      console.log('drained: clients send no new requests here');
      await new Promise((resolve) => server.close(resolve)); // In-flight requests finish.
      await registry.close(); // The key deleted, the lease revoked.
      if (service === 'web') {
        const counts = [...served].map(([name, count]) => `${name}=${count}`).join(' ');
        console.log(`requests per instance: ${counts || '(none)'}`);
      }
      console.log('deregistered, exiting');
      process.exit(0);
    })();
  });
}

/** One request to a data-access instance; a failure says which, so that the log shows retries. */
async function ask(endpoint: Endpoint, signal: AbortSignal): Promise<string> {
  try {
    const response = await fetch(`http://${endpoint.address}/`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(1000)]),
    });
    return ((await response.json()) as { instance: string }).instance;
  } catch (error) {
    console.log(`  ${nameOf(endpoint)} failed (${reason(error)}): the balancer retries elsewhere`);
    throw error;
  }
}

function nameOf(endpoint: Endpoint): string {
  const name = endpoint.metadata?.instance;
  return typeof name === 'string' ? name : endpoint.address;
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return cause ?? (error as Error).name;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
