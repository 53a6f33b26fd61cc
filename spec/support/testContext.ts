import type { Etcd3 } from 'etcd3';
import { CallTracker } from '../../lib/etcd/CallTracker';
import { ConnectionHealth } from '../../lib/etcd/ConnectionHealth';
import { EtcdContext } from '../../lib/etcd/EtcdContext';
import { gsrMeter } from '../../lib/metrics/instruments';
import { RegistryMetrics } from '../../lib/metrics/RegistryMetrics';
import { testLogger } from './testLogger';

/** An {@link EtcdContext} on `client` for specs of the parts a registry is built from. */
export function testContext(
  client: Etcd3,
  closing: AbortSignal = new AbortController().signal,
): EtcdContext {
  const { logger } = testLogger();
  const metrics = new RegistryMetrics(gsrMeter(undefined));
  return new EtcdContext(
    client,
    new CallTracker(metrics),
    logger,
    new ConnectionHealth(logger),
    metrics,
    undefined,
    closing,
  );
}
