import { Etcd3, Range } from 'etcd3';

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
