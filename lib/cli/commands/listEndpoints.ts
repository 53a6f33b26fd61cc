import { validateServiceName } from '../../endpoint/validateEndpoint';
import type { CliIo } from '../CliIo';
import { withRegistry } from '../withRegistry';

/** `gsr endpoints <service> [--json]`: one address per line, or the endpoints as a JSON array. */
export async function listEndpoints(
  io: CliIo,
  service: string,
  options: { readonly json?: boolean },
): Promise<void> {
  validateServiceName(service);
  const endpoints = await withRegistry(io, (registry) => registry.endpoints(service));
  io.stdout.write(
    options.json === true
      ? `${JSON.stringify(endpoints)}\n`
      : endpoints.map((endpoint) => `${endpoint.address}\n`).join(''),
  );
}
