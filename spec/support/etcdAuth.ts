import { Etcd3, Range } from 'etcd3';

export interface EtcdUserSpec {
  readonly name: string;
  readonly password: string;
  /** Keys under this prefix the user may read and write; none when omitted. */
  readonly readWritePrefix?: string;
}

/**
 * Turns on authentication in a test etcd: a `root` user with `rootPassword`, plus `users`, each with a
 * role that can read and write its prefix only.
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
      if (user.readWritePrefix !== undefined) {
        const role = await client.role(`${user.name}-role`).create();
        await role.grant({ permission: 'Readwrite', range: Range.prefix(user.readWritePrefix) });
        await client.user(user.name).addRole(role);
      }
    }
    await client.auth.authEnable();
  } finally {
    client.close();
  }
}
