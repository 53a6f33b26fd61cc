/**
 * `gsr/testing`: run a real, throwaway etcd in your own integration tests, the way gsr's tests do.
 * @packageDocumentation
 * @module gsr/testing
 */
export { EtcdCluster, type EtcdClusterOptions } from './EtcdCluster';
export { EtcdGrpcProxy, type EtcdGrpcProxyOptions } from './EtcdGrpcProxy';
export { EtcdMember, type EtcdMemberSpec } from './EtcdMember';
export { EtcdServer, type EtcdServerSpec } from './EtcdServer';
export type { HttpTls } from './httpGet';
export { TcpProxy, type CutMode } from './TcpProxy';
