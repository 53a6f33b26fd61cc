import type { GsrOptions } from '../../config/GsrConfig';
import { isPreconditionError, PreconditionError } from '../../errors/PreconditionError';
import { Registry } from '../../registry/Registry';
import { createXdsServer } from '../../xds/createXdsServer';
import type { CliIo } from '../CliIo';
import { untilStopped } from '../untilStopped';
import {
  allowedHostsOf,
  checkCanListen,
  checkServeOptions,
  type ServeCliOptions,
} from '../serveOverHttp';

/**
 * `gsr xds [--port 18000] [--host 127.0.0.1] [--service <name>...]`: serves the registry to xDS clients
 * (proxyless gRPC, Envoy) until interrupted, then prints what it served.
 */
export async function serveXds(
  io: CliIo,
  settings: GsrOptions,
  options: ServeCliOptions,
): Promise<void> {
  const { port, services } = checkServeOptions(io, settings, options);
  await checkCanListen(options.host, port);
  const registry = await Registry.connect({ ...settings, env: io.env });
  try {
    const xds = await createXdsServer(registry, {
      port,
      host: options.host,
      ...(services !== undefined && { services }),
      allowedHosts: allowedHostsOf(options),
    }).catch((error: unknown) => {
      // Named by the flag the user gave, not the option it became.
      throw isPreconditionError(error) && (error.field === 'port' || error.field === 'host')
        ? new PreconditionError(error.operation, error.reason, `--${error.field}`)
        : error;
    });
    const host = xds.host.includes(':') ? `[${xds.host}]` : xds.host;
    io.stdout.write(`gsr xds: serving xDS (ADS, v3) at ${host}:${xds.port} (Ctrl-C stops)\n`);
    const why = await untilStopped(io, registry).catch(async (error: unknown) => {
      await xds.close();
      throw error;
    });
    const { responses, nacks } = xds.stats();
    io.stdout.write(`${why}: stopping (${responses} responses sent, ${nacks} rejected)\n`);
    await xds.close();
  } finally {
    await registry.close();
  }
}
