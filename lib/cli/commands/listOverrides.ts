import type { GsrOptions } from '../../config/GsrConfig';
import type { CliIo } from '../CliIo';
import { maintenanceNote } from '../endpointLine';
import { printable } from '../printable';
import { readOnce } from '../readOnce';

/** How many services' keys are read at once. */
const READS_AT_ONCE = 16;

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
    // Each service's keys alone (its overrides are here already), a few services at a time.
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let service = services[next++]; service !== undefined; service = services[next++]) {
        for (const endpoint of await reads.asWritten(service)) {
          listed.add(`${service}/${endpoint.address}`);
        }
      }
    };
    await Promise.all(Array.from({ length: READS_AT_ONCE }, worker));
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
