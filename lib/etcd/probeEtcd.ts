import type { Etcd3 } from 'etcd3';

/**
 * The cheapest request that proves etcd answers and that gsr may read its keys: at most one key under
 * `prefix`, keys only. `serializable` lets the member answer from its own store without asking the
 * leader: cheaper, and all a liveness probe needs; connecting asks the leader, to prove there is one.
 * @internal
 */
export async function probeEtcd(
  client: Etcd3,
  prefix: string,
  options: { readonly deadline: number; readonly serializable: boolean },
): Promise<void> {
  await client
    .getAll()
    .prefix(prefix)
    .limit(1)
    .serializable(options.serializable)
    .options({ deadline: options.deadline })
    .keys();
}
