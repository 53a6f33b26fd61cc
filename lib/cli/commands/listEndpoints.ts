import type { GsrOptions } from '../../config/GsrConfig';
import type { CliIo } from '../CliIo';
import { endpointLine } from '../endpointLine';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/**
 * `gsr endpoints <service> [--json]`: one address per line (followed by its state when it is not
 * serving: `draining`, `failing`, `maintenance (reason, set 5m ago)`), or the endpoints as a JSON array. None is
 * said on stderr (a typo looks like an empty service), with the services that have endpoints where the
 * layout can list them; it still exits 0: an empty list is an answer.
 */
export async function listEndpoints(
  io: CliIo,
  options: GsrOptions,
  service: string,
  flags: { readonly json?: boolean },
): Promise<void> {
  await withRegistry(io, options, service, async (registry) => {
    const endpoints = await registry.endpoints(service);
    io.stdout.write(
      flags.json === true
        ? `${printable(endpoints)}\n`
        : endpoints.map((endpoint) => `${endpointLine(endpoint)}\n`).join(''),
    );
    if (endpoints.length === 0) {
      const known = registry.listsServices ? await registry.services() : [];
      const shown = known.slice(0, 10).map(printable).join(', ');
      const more = known.length > 10 ? `, and ${known.length - 10} more` : '';
      io.stderr.write(
        `gsr: no endpoints of "${printable(service)}"` +
          (known.length === 0
            ? ' (no service has any)\n'
            : ` (services with endpoints: ${shown}${more})\n`),
      );
    }
  });
}
