import { Registry } from '../registry/Registry';
import type { CliIo } from './CliIo';

/** Connects with the GSR_* configuration, runs `use`, and always closes the registry after. */
export async function withRegistry<T>(
  io: CliIo,
  use: (registry: Registry) => Promise<T>,
): Promise<T> {
  const registry = await Registry.connect({ env: io.env, watchGracePeriodMs: 0 });
  try {
    return await use(registry);
  } finally {
    await registry.close();
  }
}
