import type { GsrOptions } from '../../config/GsrConfig';
import { createHttpSdHandler } from '../../http-sd/createHttpSdHandler';
import type { CliIo } from '../CliIo';
import { serveOverHttp, type ServeCliOptions } from '../serveOverHttp';

/**
 * `gsr http-sd [--port 9464] [--host 127.0.0.1] [--service <name>...]`: serves Prometheus' HTTP service
 * discovery until interrupted.
 */
export function serveHttpSd(
  io: CliIo,
  settings: GsrOptions,
  options: ServeCliOptions,
): Promise<void> {
  return serveOverHttp(io, settings, options, {
    command: 'gsr http-sd',
    serves: "Prometheus' HTTP service discovery",
    withoutServiceList: 'name the services to serve',
    create: createHttpSdHandler,
  });
}
