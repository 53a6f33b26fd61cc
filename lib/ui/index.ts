/**
 * `gsr/ui`: a live dashboard of the registry, to mount in your own HTTP server (`gsr ui` serves it too).
 * @packageDocumentation
 * @module gsr/ui
 */
export {
  createDashboardHandler,
  type DashboardHandler,
  type DashboardOptions,
} from './createDashboardHandler';
