import { Etcd3, Range } from 'etcd3';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';

export interface EtcdUserSpec {
  readonly name: string;
  readonly password: string;
  /** Keys under this prefix the user may read and write. */
  readonly readWritePrefix?: string;
  /** Keys under this prefix the user may only read. */
  readonly readPrefix?: string;
}

/**
 * Turns on authentication in a test etcd: a `root` user with `rootPassword`, plus `users`, each with a
 * role limited to its prefixes.
 */
export async function enableEtcdAuth(
  endpoints: readonly string[],
  rootPassword: string,
  users: readonly EtcdUserSpec[],
): Promise<void> {
  const client = new Etcd3({ hosts: [...endpoints] });
  try {
    await client.user('root').create(rootPassword);
    await client.user('root').addRole('root');
    for (const user of users) {
      await client.user(user.name).create(user.password);
      const role = await client.role(`${user.name}-role`).create();
      if (user.readWritePrefix !== undefined) {
        await role.grant({ permission: 'Readwrite', range: Range.prefix(user.readWritePrefix) });
      }
      if (user.readPrefix !== undefined) {
        await role.grant({ permission: 'Read', range: Range.prefix(user.readPrefix) });
      }
      await client.user(user.name).addRole(role);
    }
    await client.auth.authEnable();
  } finally {
    client.close();
  }
}

/**
 * An etcd with authentication on, for a `describe` block: started before its tests with `root`
 * (password `rootpw`) and `users`, after `seed` wrote what the tests read; stopped after them. Read
 * `endpoints` inside hooks and tests.
 */
export function useEtcdWithAuth(
  users: readonly EtcdUserSpec[],
  seed?: (raw: Etcd3) => Promise<void>,
): { readonly endpoints: readonly string[] } {
  let cluster: EtcdCluster | undefined;
  beforeAll(async () => {
    cluster = await EtcdCluster.start();
    if (seed !== undefined) {
      const raw = new Etcd3({ hosts: [...cluster.endpoints] });
      try {
        await seed(raw);
      } finally {
        raw.close();
      }
    }
    await enableEtcdAuth(cluster.endpoints, 'rootpw', users);
  });
  afterAll(async () => {
    await cluster?.close();
  });
  return {
    get endpoints() {
      if (cluster === undefined) {
        throw new Error('useEtcdWithAuth: read endpoints inside hooks and tests');
      }
      return cluster.endpoints;
    },
  };
}
