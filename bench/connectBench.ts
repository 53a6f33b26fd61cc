import { type ConnectOptions, Registry } from '../lib';
import type { BenchContext } from './Scenario';

/** A registry for one run, quiet (errors only), under its own prefix, releasing watches at once. */
export function connectBench(
  context: BenchContext,
  keyPrefix: string,
  options: ConnectOptions = {},
): Promise<Registry> {
  return Registry.connect({
    etcdEndpoints: context.etcd.endpoints,
    keyPrefix,
    watchGracePeriodMs: 0,
    logLevel: 0,
    env: {},
    ...options,
  });
}
