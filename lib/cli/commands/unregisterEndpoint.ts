import type { GsrOptions } from '../../config/GsrConfig';
import { loadConfig } from '../../config/loadConfig';
import { createKeyLayout } from '../../keys/createKeyLayout';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/**
 * `gsr unregister <service> <address>`: deletes an endpoint's key, as the Go gsr's `Unregister()` does:
 * for the key a process killed with SIGKILL left until its lease expires. It says `unregistered` only
 * once etcd confirmed the delete; an endpoint that was not listed is said on stderr instead (its key,
 * should one be there unlisted, is deleted all the same), and is no failure: what was asked holds.
 */
export async function unregisterEndpoint(
  io: CliIo,
  options: GsrOptions,
  service: string,
  address: string,
): Promise<void> {
  const layout = createKeyLayout(loadConfig(options, io.env));
  const endpoint = layout.validateEndpoint({ service, address });
  const listed = await withRegistry(io, options, undefined, async (registry) => {
    const before = (await registry.endpoints(service)).some((e) => e.address === address);
    await registry.unregister(endpoint);
    return before;
  });
  if (listed) {
    io.stdout.write(`unregistered ${printable(layout.endpointKey(endpoint))}\n`);
  } else {
    io.stderr.write(
      `gsr: "${printable(service)}" lists no endpoint at ${printable(address)}: nothing to unregister\n`,
    );
  }
}
