import type { GsrOptions } from '../../config/GsrConfig';
import { createDashboardHandler } from '../../ui/createDashboardHandler';
import type { CliIo } from '../CliIo';
import { serveOverHttp, type ServeCliOptions } from '../serveOverHttp';

/**
 * `gsr ui [--port 7700] [--host 127.0.0.1] [--service <name>...]`: serves the live dashboard until
 * interrupted; until etcd answers, the page is told to wait.
 */
export function serveDashboard(
  io: CliIo,
  settings: GsrOptions,
  options: ServeCliOptions,
): Promise<void> {
  return serveOverHttp(io, settings, options, {
    command: 'gsr ui',
    serves: 'the dashboard',
    withoutServiceList: 'name the targets to show',
    create: createDashboardHandler,
  });
}
