import type { GsrOptions } from '../../config/GsrConfig';
import { loadConfig } from '../../config/loadConfig';
import { createKeyLayout } from '../../keys/createKeyLayout';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/**
 * `gsr unregister <service> <address>`: deletes an endpoint's key, as the Go gsr's `Unregister()` does:
 * for the key a process killed with SIGKILL left until its lease expires. It says `unregistered` only
 * once etcd confirmed the delete; an endpoint that was not listed is said on stderr.
 */
export async function unregisterEndpoint(
  io: CliIo,
  options: GsrOptions,
  service: string,
  address: string,
): Promise<void> {
  const layout = createKeyLayout(loadConfig(options, io.env));
  const endpoint = layout.validateEndpoint({ service, address });
  await withRegistry(io, options, undefined, async (registry) => {
    const listed = (await registry.endpoints(service)).some((e) => e.address === address);
    await registry.unregister(endpoint);
    if (!listed) {
      io.stderr.write(
        `gsr: ${printable(address)} was not an endpoint of "${printable(service)}"; nothing listed was deleted\n`,
      );
    }
  });
  io.stdout.write(`unregistered ${printable(layout.endpointKey(endpoint))}\n`);
}
