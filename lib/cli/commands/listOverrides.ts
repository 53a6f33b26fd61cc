import type { GsrOptions } from '../../config/GsrConfig';
import type { CliIo } from '../CliIo';
import { maintenanceNote } from '../endpointLine';
import { printable } from '../printable';
import { readOnce } from '../readOnce';

/**
 * `gsr overrides [--json]`: every endpoint an operator put in maintenance, one per line: the service,
 * the address, whether the service still lists it, the reason and the age.
 */
export async function listOverrides(
  io: CliIo,
  options: GsrOptions,
  flags: { readonly json?: boolean },
): Promise<void> {
  const rows = await readOnce(io, options, undefined, async (reads) => {
    const overrides = await reads.overrides();
    const services = [...new Set(overrides.map((override) => override.service))];
    const listed = new Set<string>();
    for (const service of services) {
      for (const endpoint of await reads.endpoints(service)) {
        listed.add(`${service}/${endpoint.address}`);
      }
    }
    return overrides.map((override) => ({
      ...override,
      listed: listed.has(`${override.service}/${override.address}`),
    }));
  });
  io.stdout.write(
    flags.json === true
      ? `${printable(rows)}\n`
      : rows
          .map(
            (row) =>
              `${printable(row.service)} ${printable(row.address)} [maintenance: ${maintenanceNote(row.maintenance)}]${row.listed ? '' : ' (not listed now)'}\n`,
          )
          .join(''),
  );
  if (rows.length === 0) {
    io.stderr.write('gsr: no endpoint is in maintenance\n');
  }
}
