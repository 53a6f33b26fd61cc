import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GsrOptions } from '../../config/GsrConfig';
import { loadConfig } from '../../config/loadConfig';
import { messageOf } from '../../errors/messageOf';
import { ValidationError } from '../../errors/ValidationError';
import { noServiceList } from '../../keys/noServiceList';
import { createKeyLayout } from '../../keys/createKeyLayout';
import { hostOf } from '../../http/hostAllowed';
import { Registry } from '../../registry/Registry';
import { createDashboardHandler, type DashboardHandler } from '../../ui/createDashboardHandler';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';

/** Options of `gsr ui`, as commander parsed them. */
export interface DashboardCliOptions {
  readonly port: string;
  readonly host: string;
  readonly service?: readonly string[];
  readonly allowHost?: readonly string[];
}

/** How long a released service keeps its watch: a page reloaded finds it warm. */
const WATCH_GRACE_PERIOD_MS = 5000;

/**
 * `gsr ui [--port 7700] [--host 127.0.0.1] [--service <name>...]`: serves the live dashboard until
 * interrupted. It listens before it connects, so that a port that is taken or a host that cannot be
 * bound is reported at once (exit 2, naming it); until etcd answers, the page is told to wait.
 */
export async function serveDashboard(
  io: CliIo,
  settings: GsrOptions,
  options: DashboardCliOptions,
): Promise<void> {
  const port = parsePort(options.port);
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
  services?.forEach((service) => layout.validateService(service, '--service'));
  if (services === undefined && layout.servicesPrefix === undefined) {
    throw noServiceList('--service', undefined, 'name the targets to show');
  }
  let dashboard: DashboardHandler | undefined;
  const server = await listen(options.host, port, (request, response) => {
    if (dashboard === undefined) {
      response.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '1' });
      response.end('gsr ui is connecting to etcd; reload in a moment\n');
    } else {
      dashboard(request, response);
    }
  });
  try {
    const { address, port: bound } = server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    io.stdout.write(`gsr ui: serving the dashboard at http://${host}:${bound}/ (Ctrl-C stops)\n`);
    const registry = await Registry.connect({
      ...settings,
      env: io.env,
      watchGracePeriodMs: WATCH_GRACE_PERIOD_MS,
    });
    try {
      // The host it was told to listen on is a name it may be reached as (not 0.0.0.0 or ::, which
      // name no host: a request there arrives on an address of its own, which the rule allows).
      const named = hostOf(options.host);
      const allowedHosts = [
        ...(options.allowHost ?? []),
        ...(named === undefined || named === '0.0.0.0' || named === '::' ? [] : [options.host]),
      ];
      dashboard = createDashboardHandler(registry, {
        ...(services !== undefined && { services }),
        allowedHosts,
      });
      const why = await io.interrupted();
      io.stdout.write(`${why}: stopping\n`);
      dashboard.close();
    } finally {
      await registry.close();
    }
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new ValidationError('--port', text, 'expected a port number from 0 to 65535');
  }
  return port;
}

/** Listens on `host:port`; a failure is the user's to fix, named by the option that caused it. */
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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new ValidationError('--port', port, `port ${port} on ${printable(host)} is taken`);
    }
    if (code === 'EACCES') {
      throw new ValidationError('--port', port, `not allowed to listen on port ${port}`);
    }
    throw new ValidationError('--host', host, `cannot listen there (${code ?? messageOf(error)})`);
  }
}
