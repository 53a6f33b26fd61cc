import type { GsrOptions } from '../../config/GsrConfig';
import type { Metadata } from '../../endpoint/Endpoint';
import { ValidationError } from '../../errors/ValidationError';
import { createKeyLayout } from '../../keys/createKeyLayout';
import { loadConfig } from '../../config/loadConfig';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/**
 * `gsr register <service> <address> [--metadata <json>]`: registers the endpoint and holds it until
 * SIGINT or SIGTERM (or until its output is closed), then deregisters it. SIGTERM, what a supervisor
 * sends to stop it, drains first: the key says draining for `GSR_DRAIN_DELAY_MS`, so clients move
 * away before it goes; SIGINT (Ctrl-C) deregisters at once. It says "deregistered" and
 * exits 0 only once etcd confirmed the key is gone; otherwise the registry's close rejects, and the
 * command exits 1 naming the key, which expires with its lease.
 */
export async function registerEndpoint(
  io: CliIo,
  settings: GsrOptions,
  service: string,
  address: string,
  options: { readonly metadata?: string },
): Promise<void> {
  const endpoint = createKeyLayout(loadConfig(settings, io.env)).validateEndpoint({
    service,
    address,
    ...(options.metadata !== undefined && { metadata: parseMetadata(options.metadata) }),
  });
  await withRegistry(
    io,
    settings,
    undefined,
    (registry) =>
      new Promise<void>((resolve, reject) => {
        const subscription = registry.register(endpoint).subscribe({
          next: (registration) =>
            io.stdout.write(
              registration.state === 'serving'
                ? `registered ${printable(registration.key)} on lease ${registration.leaseId}\n`
                : `${printable(registration.key)} is ${registration.state}\n`,
            ),
          error: reject,
        });
        void io.interrupted().then(async (why) => {
          if (why === 'SIGTERM') {
            io.stdout.write(`${why}: draining\n`);
            // An etcd that does not answer must not keep a stopping process: deregister regardless.
            const bound = registry.config.drainDelayMs + DRAIN_CONFIRM_MS;
            await registry.drain({ signal: AbortSignal.timeout(bound) }).catch(() => {
              io.stderr.write(`gsr: could not drain within ${bound}ms; deregistering anyway\n`);
            });
          }
          subscription.unsubscribe(); // close() (in withRegistry) waits for the delete.
          io.stdout.write(`${why}: deregistering\n`);
          resolve();
        });
      }),
  );
  io.stdout.write('deregistered\n');
}

/** How long SIGTERM waits for etcd to confirm the drain, beyond the drain's delay. */
const DRAIN_CONFIRM_MS = 5000;

function parseMetadata(text: string): Metadata {
  try {
    return JSON.parse(text) as Metadata; // The layout checks it is plain JSON within the limits.
  } catch {
    throw new ValidationError('--metadata', text, 'expected a JSON object, e.g. \'{"zone":"a"}\'');
  }
}
