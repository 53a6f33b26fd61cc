/**
 * `gsr/grpc`: a `@grpc/grpc-js` name resolver for `gsr:///<service>` targets.
 * @packageDocumentation
 * @module gsr/grpc
 */
export {
  installGrpcResolver,
  type GrpcResolver,
  type GrpcResolverOptions,
} from './installGrpcResolver';
export { grpcServiceConfig, type GrpcOutlierDetection } from './grpcServiceConfig';
