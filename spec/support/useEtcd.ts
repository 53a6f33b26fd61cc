import { Etcd3 } from 'etcd3';
import type { EtcdClusterOptions } from '../../lib/testing/EtcdCluster';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import type { EtcdMember } from '../../lib/testing/EtcdMember';
import { closeTestRegistries } from './testRegistries';

/** What {@link useEtcd} gives a `describe` block; read it inside hooks and tests, once started. */
export interface EtcdFixture {
  /** The cluster: kill, pause or restart its members. */
  readonly cluster: EtcdCluster;
  /** Its client URLs, for `connectTest(etcd.endpoints)`. */
  readonly endpoints: string[];
  /** Its members (one unless asked otherwise). */
  readonly members: readonly EtcdMember[];
  /** A plain etcd3 client on it: what another writer (or an operator) does, and what etcd holds. */
  readonly raw: Etcd3;
}

/**
 * The fixture most integration specs share: an etcd started once for the `describe` block, a raw
 * client on it, and every registry `connectTest` opened closed after each test; all of it stopped after
 * the block.
 *
 * @example
 * ```ts
 * describe('register', () => {
 *   const etcd = useEtcd();
 *   it('writes the key', async () => {
 *     const { registry, prefix } = await connectTest(etcd.endpoints);
 *     // ...
 *     expect(await etcd.raw.get(`${prefix}services/web/a:1`).string()).toBe('');
 *   });
 * });
 * ```
 */
export function useEtcd(options?: EtcdClusterOptions): EtcdFixture {
  let cluster: EtcdCluster | undefined;
  let raw: Etcd3 | undefined;
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) {
      throw new Error('useEtcd(): read the fixture inside hooks and tests, after beforeAll');
    }
    return value;
  };
  beforeAll(async () => {
    cluster = await EtcdCluster.start(options);
    raw = new Etcd3({ hosts: cluster.endpoints });
  });
  afterEach(closeTestRegistries);
  afterAll(async () => {
    raw?.close();
    await cluster?.close();
  });
  return {
    get cluster() {
      return started(cluster);
    },
    get endpoints() {
      return started(cluster).endpoints;
    },
    get members() {
      return started(cluster).members;
    },
    get raw() {
      return started(raw);
    },
  };
}
