import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GsrOptions } from '../config/GsrConfig';
import { loadConfig } from '../config/loadConfig';
import { messageOf } from '../errors/messageOf';
import { PreconditionError } from '../errors/PreconditionError';
import { ValidationError } from '../errors/ValidationError';
import { hostOf } from '../http/hostAllowed';
import { createKeyLayout } from '../keys/createKeyLayout';
import { noServiceList } from '../keys/noServiceList';
import { Registry } from '../registry/Registry';
import type { CliIo } from './CliIo';
import { printable } from './printable';
import { untilStopped } from './untilStopped';

/** Options of a command that serves the registry (`gsr ui`, `gsr http-sd`, `gsr xds`), as parsed. */
export interface ServeCliOptions {
  readonly port: string;
  readonly host: string;
  readonly service?: readonly string[];
  readonly allowHost?: readonly string[];
}

/** What a command that serves the registry over HTTP serves, and how it says so. */
interface HttpService {
  /** The command's name, e.g. `gsr ui`. */
  readonly command: string;
  /** What it serves, for its first line: `the dashboard`. */
  readonly serves: string;
  /** What to do instead under etcd's naming layout, which has no list of services: `name the ...`. */
  readonly withoutServiceList: string;
  /** A request handler on a connected registry. */
  create(
    registry: Registry,
    options: { services?: readonly string[]; allowedHosts: readonly string[] },
  ): ((request: IncomingMessage, response: ServerResponse) => void) & { close(): void };
}

/** How long a released service keeps its watch: a page reloaded (a scrape repeated) finds it warm. */
const WATCH_GRACE_PERIOD_MS = 5000;

/**
 * Serves `service` until interrupted. It listens before it connects, so that a port that is taken or a
 * host that cannot be bound is reported at once (exit 2, naming it); until etcd answers, requests are
 * answered 503 with `Retry-After`.
 */
export async function serveOverHttp(
  io: CliIo,
  settings: GsrOptions,
  options: ServeCliOptions,
  service: HttpService,
): Promise<void> {
  const { port, services } = checkServeOptions(io, settings, options, service.withoutServiceList);
  let handler: ReturnType<HttpService['create']> | undefined;
  const server = await listen(options.host, port, (request, response) => {
    if (handler === undefined) {
      response.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
      response.end(`${service.command} is connecting to etcd; try again in a moment\n`);
    } else {
      handler(request, response);
    }
  });
  try {
    const { address, port: bound } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    io.stdout.write(
      `${service.command}: serving ${service.serves} at http://${host}:${bound}/ (Ctrl-C stops)\n`,
    );
    const registry = await Registry.connect({
      ...settings,
      env: io.env,
      watchGracePeriodMs: WATCH_GRACE_PERIOD_MS,
    });
    try {
      handler = service.create(registry, {
        ...(services !== undefined && { services }),
        allowedHosts: allowedHostsOf(options),
      });
      const why = await untilStopped(io, registry).finally(() => handler?.close());
      io.stdout.write(`${why}: stopping\n`);
    } finally {
      await registry.close();
    }
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

/**
 * Checks a serving command's options before anything listens or connects: the port, a host that is
 * not empty, the services named (and that there are some under etcd's naming layout).
 */
export function checkServeOptions(
  io: CliIo,
  settings: GsrOptions,
  options: ServeCliOptions,
  withoutServiceList = 'name the services to serve',
): { port: number; services: readonly string[] | undefined } {
  const port = Number(options.port);
  if (!/^\d+$/.test(options.port) || port > 65535) {
    throw new ValidationError('--port', options.port, 'expected a port number from 0 to 65535');
  }
  if (options.host.trim() === '') {
    // An unset variable (`--host "$HOST"`) would listen on every interface.
    throw new ValidationError(
      '--host',
      options.host,
      'expected a host name or address (empty would listen on every interface; name 0.0.0.0 for that)',
    );
  }
  const services = options.service;
  const layout = createKeyLayout(loadConfig(settings, io.env));
  services?.forEach((name) => layout.validateService(name, '--service'));
  if (services === undefined && layout.servicesPrefix === undefined) {
    throw noServiceList('--service', undefined, withoutServiceList);
  }
  return { port, services };
}

/**
 * The names a request may give as its Host: `--allow-host`'s, and the host it was told to listen on
 * (not 0.0.0.0 or ::, which name no host: a request there arrives on an address of its own, which the
 * rule allows).
 */
export function allowedHostsOf(options: ServeCliOptions): readonly string[] {
  const named = hostOf(options.host);
  return [
    ...(options.allowHost ?? []),
    ...(named === undefined || named === '0.0.0.0' || named === '::' ? [] : [options.host]),
  ];
}

/**
 * Throws what {@link listenProblem} says when nothing could listen on `host`:`port` now, so that a
 * command serving another protocol (gRPC's own server) reports a taken port before connecting, and in
 * gsr's words rather than its server's log line. A port taken in between is still reported by that
 * server's own bind.
 */
export async function checkCanListen(host: string, port: number): Promise<void> {
  const server = await listen(host, port, () => undefined);
  await new Promise((resolve) => server.close(resolve));
}

/** A failure to listen, named by the option to change: the user's to fix. */
function listenProblem(error: unknown, host: string, port: number): PreconditionError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `listen on ${printable(host.includes(':') ? `[${host}]` : host)}:${port}`;
  if (code === 'EADDRINUSE') {
    return new PreconditionError(where, 'the port is taken (--port names another)', '--port');
  }
  if (code === 'EACCES') {
    return new PreconditionError(where, 'this user may not listen on that port', '--port');
  }
  return new PreconditionError(
    where,
    `${code === 'EADDRNOTAVAIL' ? 'the address is not one of this machine' : 'the host cannot be listened on'} (${code ?? messageOf(error)})`,
    '--host',
  );
}

async function listen(
  host: string,
  port: number,
  handle: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<Server> {
  const server = createServer(handle);
  try {
    server.listen(port, host);
    await once(server, 'listening');
    return server;
  } catch (error) {
    throw listenProblem(error, host, port);
  }
}
