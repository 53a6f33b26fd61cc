import { existsSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';

describe('EtcdCluster', () => {
  it('starts one member on loopback, serves requests, and removes its data on close', async () => {
    const etcd = await EtcdCluster.start();
    expect(etcd.endpoints).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/)]);
    const client = new Etcd3({ hosts: etcd.endpoints });
    await client.put('k').value('v');
    expect(await client.get('k').string()).toBe('v');
    client.close();
    await etcd.close();
    expect(existsSync(etcd.dir)).toBe(false);
    expect(etcd.members[0]?.running).toBe(false);
  });

  it('runs three members that survive the loss of one, and restarts it with its data', async () => {
    const etcd = await EtcdCluster.start({ members: 3 });
    try {
      expect(new Set(etcd.endpoints).size).toBe(3);
      const client = new Etcd3({ hosts: etcd.endpoints });
      await client.put('before').value('1');
      await etcd.members[0]?.kill();
      expect(etcd.members[0]?.running).toBe(false);
      await etcd.waitHealthy();
      await client.put('during').value('2');
      await etcd.members[0]?.start();
      await etcd.waitHealthy();
      const restarted = new Etcd3({ hosts: [etcd.members[0]?.clientUrl ?? ''] });
      expect(await restarted.get('during').string()).toBe('2');
      restarted.close();
      client.close();
    } finally {
      await etcd.close();
    }
  });

  it('reads a member’s metrics', async () => {
    const etcd = await EtcdCluster.start();
    try {
      const metrics = await etcd.members[0]?.metrics();
      expect(metrics?.get('etcd_debugging_mvcc_watcher_total')).toBe(0);
      expect(metrics?.get('etcd_server_has_leader')).toBe(1);
    } finally {
      await etcd.close();
    }
  });

  it('says how to install etcd when the binary is missing', async () => {
    await expect(EtcdCluster.start({ bin: '/nonexistent/etcd' })).rejects.toThrow(
      /etcd binary "\/nonexistent\/etcd" not found: install etcd \(apt-get install -y etcd-server\)/,
    );
  });
});
