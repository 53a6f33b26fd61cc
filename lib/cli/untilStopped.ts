import type { Registry } from '../registry/Registry';
import type { CliIo } from './CliIo';

/**
 * What ends a server command: an interrupt (resolves with the signal's name), or etcd refusing the
 * registry's credentials for good (rejects with the refusal). etcd being down ends nothing. The
 * interrupt listener is released either way.
 */
export async function untilStopped(io: CliIo, registry: Registry): Promise<string> {
  const stopListening = new AbortController();
  try {
    return await Promise.race([
      io.interrupted(stopListening.signal),
      registry.refused().then((error) => Promise.reject(error)),
    ]);
  } finally {
    stopListening.abort();
  }
}
