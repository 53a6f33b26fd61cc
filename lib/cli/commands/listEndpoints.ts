import type { GsrOptions } from '../../config/GsrConfig';
import type { CliIo } from '../CliIo';
import { byAddress } from '../byAddress';
import { endpointLine } from '../endpointLine';
import { printable } from '../printable';
import { readOnce } from '../readOnce';

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
  const { endpoints, known } = await readOnce(io, options, service, async (reads) => {
    const list = await reads.endpoints(service);
    return {
      endpoints: byAddress(list),
      // Only when there are none: what the user may have meant.
      known: list.length === 0 && reads.listsServices ? await reads.services() : [],
    };
  });
  io.stdout.write(
    flags.json === true
      ? `${printable(endpoints)}\n`
      : endpoints.map((endpoint) => `${endpointLine(endpoint)}\n`).join(''),
  );
  if (endpoints.length === 0) {
    const shown = known.slice(0, 10).map(printable).join(', ');
    const more = known.length > 10 ? `, and ${known.length - 10} more` : '';
    io.stderr.write(
      `gsr: no endpoints of "${printable(service)}"` +
        (known.length === 0
          ? ' (no service has any)\n'
          : ` (services with endpoints: ${shown}${more})\n`),
    );
  }
}
