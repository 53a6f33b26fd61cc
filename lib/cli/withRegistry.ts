import type { GsrOptions } from '../config/GsrConfig';
import { loadConfig } from '../config/loadConfig';
import { createKeyLayout } from '../keys/createKeyLayout';
import { Registry } from '../registry/Registry';
import type { CliIo } from './CliIo';

/**
 * Checks the configuration and `service` (when the command names one) before connecting, connects with
 * the GSR_* configuration and the command's `options`, runs `use`, and always closes the registry after.
 * A close that could not get etcd to confirm a deregistration rejects, and so does the command.
 */
export async function withRegistry<T>(
  io: CliIo,
  options: GsrOptions,
  service: string | undefined,
  use: (registry: Registry) => Promise<T>,
): Promise<T> {
  if (service !== undefined) {
    createKeyLayout(loadConfig(options, io.env)).validateService(service);
  }
  // A command that does one thing and exits fails fast when etcd does not answer, never starts without it.
  const registry = await Registry.connect({
    ...options,
    waitForEtcd: true,
    env: io.env,
    watchGracePeriodMs: 0,
  });
  try {
    return await use(registry);
  } finally {
    await registry.close();
  }
}
