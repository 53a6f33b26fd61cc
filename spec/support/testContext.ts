import { unmeasuredLag } from '../../lib/etcd/EventLoopLag';
import { loadConfig } from '../../lib/config/loadConfig';
import { systemClock } from '../../lib/etcd/Clock';
import { ConnectionHealth } from '../../lib/etcd/ConnectionHealth';
import { Etcd3Port } from '../../lib/etcd/etcd3/Etcd3Port';
import { EtcdContext } from '../../lib/etcd/EtcdContext';
import { gsrMeter } from '../../lib/metrics/instruments';
import { RegistryMetrics } from '../../lib/metrics/RegistryMetrics';
import { testLogger } from './testLogger';

/**
 * An {@link EtcdContext} over a real etcd at `endpoints`, for specs of the parts a registry is built
 * from; `close()` ends its client.
 */
export function testContext(
  endpoints: readonly string[],
  closing: AbortSignal = new AbortController().signal,
): EtcdContext & { close(): void } {
  const { logger } = testLogger();
  const metrics = new RegistryMetrics(gsrMeter(undefined));
  const port = new Etcd3Port(
    loadConfig({ etcdEndpoints: endpoints }, {}),
    new ConnectionHealth(logger, systemClock, { lag: unmeasuredLag }),
    metrics,
  );
  const context = new EtcdContext(port, systemClock, logger, metrics, undefined, closing);
  return Object.assign(context, { close: () => port.close() });
}
