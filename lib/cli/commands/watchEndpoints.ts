import { validateServiceName } from '../../endpoint/validateEndpoint';
import type { CliIo } from '../CliIo';
import { withRegistry } from '../withRegistry';

/**
 * `gsr watch <service> [--json]`: a line each time the list changes, until interrupted: the time and the
 * addresses, or a JSON object per line.
 */
export async function watchEndpoints(
  io: CliIo,
  service: string,
  options: { readonly json?: boolean },
): Promise<void> {
  validateServiceName(service);
  await withRegistry(
    io,
    (registry) =>
      new Promise<void>((resolve, reject) => {
        const subscription = registry.endpoints$(service).subscribe({
          next: (endpoints) => {
            const time = new Date().toISOString();
            io.stdout.write(
              options.json === true
                ? `${JSON.stringify({ time, service, endpoints })}\n`
                : `${time} ${endpoints.map((e) => e.address).join(' ') || '(no endpoints)'}\n`,
            );
          },
          error: reject,
          complete: resolve,
        });
        void io.interrupted().then(() => {
          subscription.unsubscribe();
          resolve();
        });
      }),
  );
}
