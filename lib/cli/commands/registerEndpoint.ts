import type { Metadata } from '../../endpoint/Endpoint';
import { validateEndpoint } from '../../endpoint/validateEndpoint';
import { ValidationError } from '../../errors/ValidationError';
import type { CliIo } from '../CliIo';
import { withRegistry } from '../withRegistry';

/**
 * `gsr register <service> <address> [--metadata <json>]`: registers the endpoint and holds it until
 * SIGINT or SIGTERM, then deregisters it (the key is gone before the command exits).
 */
export async function registerEndpoint(
  io: CliIo,
  service: string,
  address: string,
  options: { readonly metadata?: string },
): Promise<void> {
  const endpoint = validateEndpoint({
    service,
    address,
    ...(options.metadata !== undefined && { metadata: parseMetadata(options.metadata) }),
  });
  await withRegistry(
    io,
    (registry) =>
      new Promise<void>((resolve, reject) => {
        const subscription = registry.register(endpoint).subscribe({
          next: (registration) =>
            io.stdout.write(`registered ${registration.key} on lease ${registration.leaseId}\n`),
          error: reject,
        });
        void io.interrupted().then((signal) => {
          subscription.unsubscribe(); // close() (in withRegistry) waits for the delete.
          io.stdout.write(`${signal}: deregistering\n`);
          resolve();
        });
      }),
  );
  io.stdout.write('deregistered\n');
}

function parseMetadata(text: string): Metadata {
  try {
    return JSON.parse(text) as Metadata; // validateEndpoint checks it is a plain object.
  } catch {
    throw new ValidationError('--metadata', text, 'expected a JSON object, e.g. \'{"zone":"a"}\'');
  }
}
