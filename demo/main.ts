/**
 * `npm run demo`: connects to etcd and says what it connected to. Without GSR_ETCD_ENDPOINTS it starts a
 * throwaway etcd of its own, and stops it at the end.
 */
import { Registry } from '../lib';
import { EtcdCluster } from '../lib/testing';

async function main(): Promise<void> {
  const own = process.env.GSR_ETCD_ENDPOINTS === undefined ? await EtcdCluster.start() : undefined;
  if (own) {
    console.log(`demo: started a throwaway etcd at ${own.endpoints.join(', ')}`);
  }
  try {
    const registry = await Registry.connect(own ? { etcdEndpoints: own.endpoints } : {});
    console.log(`demo: connected to etcd at ${registry.config.etcdEndpoints.join(', ')}`);
    console.log(`demo: key prefix ${registry.config.keyPrefix}`);
    await registry.close();
  } finally {
    await own?.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
