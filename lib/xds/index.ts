/**
 * `gsr/xds`: an xDS control plane fed by the registry, for proxyless gRPC clients and Envoy
 * (`gsr xds` serves it too). Needs `@grpc/grpc-js-xds` installed, for Envoy's protos.
 * @packageDocumentation
 * @module gsr/xds
 */
export {
  createXdsServer,
  type XdsServer,
  type XdsServerOptions,
  type XdsStats,
} from './createXdsServer';
