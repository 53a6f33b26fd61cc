/**
 * `gsr/http-sd`: Prometheus' HTTP service discovery served from the registry, to mount in your own HTTP
 * server (`gsr http-sd` serves it too).
 * @packageDocumentation
 * @module gsr/http-sd
 */
export { createHttpSdHandler, type HttpSdHandler, type HttpSdOptions } from './createHttpSdHandler';
export type { TargetGroup } from './targetGroups';
