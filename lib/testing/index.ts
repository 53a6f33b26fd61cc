/**
 * `gsr/testing`: run a real, throwaway etcd in your own integration tests, the way gsr's tests do.
 * @packageDocumentation
 */
export { EtcdCluster, type EtcdClusterOptions } from './EtcdCluster';
export { EtcdMember, type EtcdMemberSpec } from './EtcdMember';
export type { HttpTls } from './httpGet';
export { TcpProxy, type CutMode } from './TcpProxy';
