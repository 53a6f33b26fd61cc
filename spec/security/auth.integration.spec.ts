import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { AuthenticationError } from '../../lib/errors/AuthenticationError';
import { PermissionDeniedError } from '../../lib/errors/PermissionDeniedError';
import { ValidationError } from '../../lib/errors/ValidationError';
import { Registry } from '../../lib/registry/Registry';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { enableEtcdAuth } from '../support/etcdAuth';
import { eventually, record } from '../support/observe';
import { repoRoot, runNode } from '../support/runNode';
import { testLogger } from '../support/testLogger';

describe('etcd authentication', () => {
  let etcd: EtcdCluster;
  let root: Etcd3;

  const connect = (username: string, password: string) =>
    Registry.connect({
      etcdEndpoints: etcd.endpoints,
      etcdUsername: username,
      etcdPassword: password,
      // Refusals come at once: not after this timeout, far past a test's own.
      connectTimeoutSeconds: 300,
      waitForEtcd: true,
      logger: testLogger().logger,
      env: {},
    });

  beforeAll(async () => {
    etcd = await EtcdCluster.start();
    // A role limited to exactly the registry's part of the keyspace.
    await enableEtcdAuth(etcd.endpoints, 'rootpw', [
      { name: 'svc', password: 'secret', readWritePrefix: 'gsr/services/' },
      { name: 'elsewhere', password: 'secret', readWritePrefix: 'app/' },
    ]);
    root = new Etcd3({ hosts: etcd.endpoints, auth: { username: 'root', password: 'rootpw' } });
  });
  afterAll(async () => {
    root.close();
    await etcd.close();
  });

  it('registers and discovers with a role limited to <prefix>services/', async () => {
    const registry = await connect('svc', 'secret');
    try {
      const api = record(registry.endpoints$('api'));
      const registration = record(registry.register({ service: 'api', address: '10.0.0.1:80' }));
      await eventually(() => registration.values.length === 1 && api.latest?.length === 1);
      expect(await registry.services()).toEqual(['api']);
    } finally {
      await registry.close();
    }
    expect(await root.getAll().prefix('gsr/').count()).toBe(0);
  });

  it('cannot be made to write outside <prefix>services/', async () => {
    const registry = await connect('svc', 'secret');
    try {
      for (const endpoint of [
        { service: '..', address: 'x' },
        { service: 'a/../../..', address: 'x' },
        { service: 'api', address: '../../../app/config' },
        { service: '', address: 'x' },
      ]) {
        expect(record(registry.register(endpoint)).error).toBeInstanceOf(ValidationError);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await root.getAll().prefix('').keys()).toEqual([]);
    } finally {
      await registry.close();
    }
  });

  it('fails fast on a wrong password, with an AuthenticationError', async () => {
    await expect(connect('svc', 'wrong')).rejects.toBeInstanceOf(AuthenticationError);
    await expect(connect('nobody', 'secret')).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('fails fast without credentials, with an AuthenticationError that says how to give them', async () => {
    const attempt = Registry.connect({
      etcdEndpoints: etcd.endpoints,
      // Refusals come at once: not after this timeout, far past a test's own.
      connectTimeoutSeconds: 300,
      waitForEtcd: true,
      logger: testLogger().logger,
      env: {},
    });
    await expect(attempt).rejects.toBeInstanceOf(AuthenticationError);
    await expect(attempt).rejects.toThrow(
      'etcd requires authentication, and gsr has no credentials: set GSR_ETCD_USERNAME and GSR_ETCD_PASSWORD',
    );
  });

  it('takes a user and a password file on the command line, never the password itself', async () => {
    const passwordFile = join(mkdtempSync(join(tmpdir(), 'gsr-pw-')), 'password');
    writeFileSync(passwordFile, 'secret\n');
    await root.put('gsr/services/web/a:1').value('');
    const bin = join(repoRoot, 'dist', 'cli', 'main.js');
    const flags = ['--endpoints', etcd.endpoints.join(','), '--user', 'svc'];
    const run = await runNode(
      [bin, ...flags, '--password-file', passwordFile, 'endpoints', 'web'],
      {
        env: {},
      },
    );
    expect(run.stdout).toBe('a:1\n');
    expect(run.code).toBe(0);
    await root.delete().key('gsr/services/web/a:1');
  });

  it('fails fast for a user without permission on the prefix, with a PermissionDeniedError', async () => {
    const attempt = connect('elsewhere', 'secret');
    await expect(attempt).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(attempt).rejects.toThrow('etcd denied gsr access to "gsr/services/"');
  });
});
