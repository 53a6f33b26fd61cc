import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/** `gsr endpoints <service> [--json]`: one address per line, or the endpoints as a JSON array. */
export async function listEndpoints(
  io: CliIo,
  service: string,
  options: { readonly json?: boolean },
): Promise<void> {
  const endpoints = await withRegistry(io, service, (registry) => registry.endpoints(service));
  io.stdout.write(
    options.json === true
      ? `${printable(endpoints)}\n`
      : endpoints.map((endpoint) => `${printable(endpoint.address)}\n`).join(''),
  );
}
