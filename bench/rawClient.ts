import type { Etcd3, IKeyValue, IRangeResponse, Watcher } from 'etcd3';
import type { Endpoint } from '../lib/endpoint/Endpoint';

/**
 * What hand-written etcd3 code needs for a correct live list of a prefix: one range get, and a watcher
 * from the revision after it (so that nothing between the two is missed).
 */
export async function rangeThenWatch(
  client: Etcd3,
  prefix: string,
): Promise<{ range: IRangeResponse; watcher: Watcher }> {
  const range = await client.getAll().prefix(prefix).exec();
  const watcher = await client
    .watch()
    .prefix(prefix)
    .startRevision(String(BigInt(range.header.revision) + 1n))
    .create();
  return { range, watcher };
}

/** What hand-written code makes of a key under `<servicePrefix>`: an endpoint, metadata parsed. */
export function rawEndpoint(service: string, servicePrefix: string, kv: IKeyValue): Endpoint {
  const value = kv.value.toString();
  const endpoint = { service, address: kv.key.toString().slice(servicePrefix.length) };
  return value === ''
    ? endpoint
    : { ...endpoint, metadata: JSON.parse(value) as Record<string, unknown> };
}
