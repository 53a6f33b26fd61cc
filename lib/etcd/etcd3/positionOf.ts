import type { IResponseHeader } from 'etcd3';
import type { EtcdPosition } from '../EtcdPort';

/**
 * Where an etcd response header says its answer comes from. A header without a cluster id (etcd 3.4's
 * grpc-proxy sends zeros for a watch it merged) gives `'0'`: not known.
 * @internal
 */
export function positionOf(header: Partial<IResponseHeader> | undefined): EtcdPosition {
  const cluster = header?.cluster_id;
  return {
    revision: BigInt(header?.revision ?? '0'),
    cluster: typeof cluster === 'string' && cluster !== '' ? cluster : '0',
  };
}
