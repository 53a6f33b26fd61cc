import { Registry, type ConnectOptions } from '../../lib/registry/Registry';
import { isEtcdUnavailableError } from '../../lib/errors/EtcdUnavailableError';
import { testLogger } from './testLogger';

const open = new Set<Registry>();
let prefixes = 0;

/** A key prefix no other test in this process uses, so that tests sharing an etcd never meet. */
export function uniquePrefix(): string {
  prefixes += 1;
  return `t${process.pid}-${prefixes}/`;
}

/**
 * Connects a registry to a test etcd with a prefix of its own, a short grace period and a logger that
 * keeps records for assertions; {@link closeTestRegistries} closes it after the test.
 */
export async function connectTest(
  endpoints: readonly string[],
  options: ConnectOptions = {},
): Promise<{ registry: Registry; prefix: string; logs: string[] }> {
  const { logger, lines } = testLogger();
  const prefix = options.keyPrefix ?? uniquePrefix();
  const registry = await Registry.connect({
    etcdEndpoints: endpoints,
    keyPrefix: prefix,
    connectTimeoutSeconds: 10,
    // Connected before the test goes on, also on a busy machine (tests of an offline start say so).
    waitForEtcd: true,
    watchGracePeriodMs: 50,
    logger,
    env: {},
    ...options,
  });
  open.add(registry);
  return { registry, prefix, logs: lines };
}

/**
 * Closes every registry {@link connectTest} opened. A registry that a test cut off from etcd cannot get
 * its keys' deletion confirmed (they expire with the lease): that is the test's business, not a failure
 * of the clean-up; anything else is.
 */
export async function closeTestRegistries(): Promise<void> {
  const closing = [...open].map((registry) =>
    registry.close().catch((error: unknown) => {
      if (!isEtcdUnavailableError(error)) {
        throw error;
      }
    }),
  );
  open.clear();
  await Promise.all(closing);
}
