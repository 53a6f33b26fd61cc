import type { Etcd3 } from 'etcd3';

/**
 * One request that proves etcd answers and that gsr may read its keys: a count of the keys under
 * `prefix`, within `deadline` (epoch milliseconds).
 * @internal
 */
export async function probeEtcd(client: Etcd3, prefix: string, deadline: number): Promise<void> {
  await client.getAll().prefix(prefix).options({ deadline }).count();
}
