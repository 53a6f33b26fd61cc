import type { GsrOptions } from '../../config/GsrConfig';
import { loadConfig } from '../../config/loadConfig';
import { createKeyLayout } from '../../keys/createKeyLayout';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/** `gsr undrain <service> <address>`: ends the endpoint's maintenance; says so when there was none. */
export async function undrainEndpoint(
  io: CliIo,
  options: GsrOptions,
  service: string,
  address: string,
): Promise<void> {
  createKeyLayout(loadConfig(options, io.env)).validateEndpoint({ service, address });
  const had = await withRegistry(io, options, undefined, async (registry) => {
    const before = (await registry.overrides()).some(
      (override) => override.service === service && override.address === address,
    );
    await registry.clearMaintenance(service, address);
    return before;
  });
  if (had) {
    io.stdout.write(`${printable(service)} ${printable(address)} takes calls again\n`);
  } else {
    io.stderr.write(
      `gsr: ${printable(service)} ${printable(address)} was not in maintenance: nothing changed\n`,
    );
  }
}
