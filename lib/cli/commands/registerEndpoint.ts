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
 * away before it goes; SIGINT (Ctrl-C) deregisters at once, also during that drain (a Ctrl-C while it
 * deregisters quits at once; the key then expires with its lease). It says "deregistered" and
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
            // Ctrl-C (or another signal) during the drain cuts it short: deregister at once.
            const drained = new AbortController();
            const cut = new AbortController();
            void io.interrupted(drained.signal).then((again) => {
              io.stdout.write(`${again}: drain cut short\n`);
              cut.abort(new Error(`${again} during the drain`));
            });
            await registry
              .drain({ signal: AbortSignal.any([AbortSignal.timeout(bound), cut.signal]) })
              .catch(() => {
                if (!cut.signal.aborted) {
                  io.stderr.write(`gsr: could not drain within ${bound}ms; deregistering anyway\n`);
                }
              })
              .finally(() => drained.abort());
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
