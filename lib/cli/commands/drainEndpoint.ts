import type { GsrOptions } from '../../config/GsrConfig';
import { loadConfig } from '../../config/loadConfig';
import { PreconditionError } from '../../errors/PreconditionError';
import { createKeyLayout } from '../../keys/createKeyLayout';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/**
 * `gsr drain <service> <address> [--reason TEXT] [--force]`: puts the endpoint in maintenance (an
 * operator's override, kept until `gsr undrain`). An address the service does not list now is refused
 * (a typo would drain nothing) unless `--force`: an operator may take out an instance that is down.
 */
export async function drainEndpoint(
  io: CliIo,
  options: GsrOptions,
  service: string,
  address: string,
  flags: { readonly reason?: string; readonly force?: boolean },
): Promise<void> {
  createKeyLayout(loadConfig(options, io.env)).validateEndpoint({ service, address });
  await withRegistry(io, options, undefined, async (registry) => {
    const listed = await registry.endpoints(service);
    if (flags.force !== true && !listed.some((endpoint) => endpoint.address === address)) {
      const why =
        listed.length === 0
          ? `"${printable(service)}" has no endpoints (an unknown service?)`
          : `"${printable(service)}" lists no endpoint at it (it lists ${listed.length})`;
      throw new PreconditionError(
        `drain address ${printable(address)} of "${printable(service)}"`,
        `${why}; --force drains it all the same`,
        'address',
      );
    }
    await registry.setMaintenance(service, address, { reason: flags.reason ?? '' });
  });
  io.stdout.write(
    `${printable(service)} ${printable(address)} is in maintenance until gsr undrain\n`,
  );
}
