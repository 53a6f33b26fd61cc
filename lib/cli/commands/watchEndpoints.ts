import type { GsrOptions } from '../../config/GsrConfig';
import type { CliIo } from '../CliIo';
import { byAddress } from '../byAddress';
import { endpointLine } from '../endpointLine';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/**
 * `gsr watch <service> [--json]`: a line each time the list changes, until interrupted (or until its
 * reader closes the output): the time and the endpoints, each its address and, when not serving, its
 * state in brackets; or a JSON object per line.
 */
export async function watchEndpoints(
  io: CliIo,
  settings: GsrOptions,
  service: string,
  options: { readonly json?: boolean },
): Promise<void> {
  await withRegistry(
    io,
    settings,
    service,
    (registry) =>
      new Promise<void>((resolve, reject) => {
        const subscription = registry.endpoints$(service).subscribe({
          next: (list) => {
            const endpoints = byAddress(list);
            const time = new Date().toISOString();
            io.stdout.write(
              options.json === true
                ? `${printable({ time, service, endpoints })}\n`
                : `${time} ${endpoints.map((e) => endpointLine(e)).join(' ') || '(no endpoints)'}\n`,
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
