import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { configSchema } from '../../lib/config/configSchema';
import { loadConfig } from '../../lib/config/loadConfig';
import { ConfigError, isConfigError } from '../../lib/errors/ConfigError';

function configErrorOf(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (isConfigError(error)) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('loadConfig', () => {
  it("defaults to the Go gsr's values", () => {
    expect(loadConfig({}, {})).toEqual({
      etcdEndpoints: ['http://127.0.0.1:2379'],
      keyLayout: 'gsr',
      keyPrefix: 'gsr/',
      namingMetadata: 'string',
      connectTimeoutSeconds: 300,
      waitForEtcd: false,
      dialTimeoutSeconds: 1,
      requestTimeoutSeconds: 1,
      useTls: false,
      tlsCertPath: '/etc/gsr/server.pem',
      tlsKeyPath: '/etc/gsr/server.key',
      tlsCaPath: undefined,
      etcdUsername: undefined,
      etcdPassword: undefined,
      logLevel: 0,
      logMicroseconds: false,
      logFileTrace: false,
      leaseSeconds: 60,
      drainDelayMs: 2000,
      snapshotDir: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gsr'),
      snapshotMaxAgeSeconds: 604800,
      protectionThreshold: 0.5,
      protectionSeconds: 300,
      stampWrites: false,
    });
  });

  it("keeps snapshots in the process's XDG cache directory when it is set (and absolute), and '' turns them off", () => {
    const cache = process.env.XDG_CACHE_HOME;
    try {
      process.env.XDG_CACHE_HOME = '/var/cache/u';
      expect(loadConfig({}, {}).snapshotDir).toBe('/var/cache/u/gsr');
      process.env.XDG_CACHE_HOME = 'relative';
      expect(loadConfig({}, {}).snapshotDir).toBe(join(homedir(), '.cache', 'gsr'));
    } finally {
      if (cache === undefined) {
        delete process.env.XDG_CACHE_HOME;
      } else {
        process.env.XDG_CACHE_HOME = cache;
      }
    }
    expect(loadConfig({}, { GSR_SNAPSHOT_DIR: '' }).snapshotDir).toBe('');
    expect(loadConfig({ snapshotDir: '' }, {}).snapshotDir).toBe('');
    expect(loadConfig({}, { GSR_SNAPSHOT_DIR: 'here' }).snapshotDir).toBe(resolve('here'));
  });

  it('reads every GSR_* variable', () => {
    const config = loadConfig(
      {},
      {
        GSR_ETCD_ENDPOINTS: 'https://e1, e2:2000',
        GSR_KEY_LAYOUT: 'etcd-naming',
        GSR_KEY_PREFIX: 'acme//',
        GSR_NAMING_METADATA: 'object',
        GSR_ETCD_CONNECT_TIMEOUT_SECONDS: '2',
        GSR_WAIT_FOR_ETCD: 'true',
        GSR_ETCD_DIAL_TIMEOUT_SECONDS: '0.5',
        GSR_ETCD_REQUEST_TIMEOUT_SECONDS: '3',
        GSR_USE_TLS: 'true',
        GSR_TLS_CERT_PATH: '/c.pem',
        GSR_TLS_KEY_PATH: '/c.key',
        GSR_TLS_CA_PATH: '/ca.pem',
        GSR_ETCD_USERNAME: 'svc',
        GSR_ETCD_PASSWORD: 'pw',
        GSR_LOG_LEVEL: '2',
        GSR_LOG_MICROSECONDS: '1',
        GSR_LOG_FILE_TRACE: 'yes',
        GSR_LEASE_SECONDS: '15',
        GSR_DRAIN_DELAY_MS: '500',
        GSR_SNAPSHOT_DIR: '/srv/gsr',
        GSR_SNAPSHOT_MAX_AGE_SECONDS: '60',
        GSR_PROTECTION_THRESHOLD: '0.8',
        GSR_PROTECTION_SECONDS: '30',
        GSR_STAMP_WRITES: 'yes',
      },
    );
    expect(config).toEqual({
      etcdEndpoints: ['https://e1:2379', 'https://e2:2000'],
      keyLayout: 'etcd-naming',
      keyPrefix: 'acme/',
      namingMetadata: 'object',
      connectTimeoutSeconds: 2,
      waitForEtcd: true,
      dialTimeoutSeconds: 0.5,
      requestTimeoutSeconds: 3,
      useTls: true,
      tlsCertPath: '/c.pem',
      tlsKeyPath: '/c.key',
      tlsCaPath: '/ca.pem',
      etcdUsername: 'svc',
      etcdPassword: 'pw',
      logLevel: 2,
      logMicroseconds: true,
      logFileTrace: true,
      leaseSeconds: 15,
      drainDelayMs: 500,
      snapshotDir: '/srv/gsr',
      snapshotMaxAgeSeconds: 60,
      protectionThreshold: 0.8,
      protectionSeconds: 30,
      stampWrites: true,
    });
  });

  it('lets options given in code win over the environment', () => {
    const config = loadConfig(
      { leaseSeconds: 5, etcdEndpoints: ['a:1', 'b:2'], useTls: false },
      { GSR_LEASE_SECONDS: 'abc', GSR_ETCD_ENDPOINTS: 'ftp://bad', GSR_USE_TLS: 'maybe' },
    );
    expect(config.leaseSeconds).toBe(5);
    expect(config.etcdEndpoints).toEqual(['http://a:1', 'http://b:2']);
    expect(config.useTls).toBe(false);
  });

  it("names keys from the root of the keyspace under etcd's naming layout, unless told otherwise", () => {
    expect(loadConfig({}, { GSR_KEY_LAYOUT: 'etcd-naming' }).keyPrefix).toBe('');
    expect(loadConfig({ keyLayout: 'etcd-naming', keyPrefix: 'svc' }, {}).keyPrefix).toBe('svc/');
  });

  it('accepts endpoints in code as a comma-separated string', () => {
    expect(loadConfig({ etcdEndpoints: 'x, y:1' }, {}).etcdEndpoints).toEqual([
      'http://x:2379',
      'http://y:1',
    ]);
  });

  it('ignores variables that are not its own', () => {
    expect(loadConfig({}, { GSR_UNRELATED: 'x', PATH: '/bin' }).leaseSeconds).toBe(60);
  });

  it('returns a frozen object', () => {
    const config = loadConfig({}, {});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.etcdEndpoints)).toBe(true);
  });

  it('reads process.env by default, at call time', () => {
    process.env.GSR_LEASE_SECONDS = '42';
    try {
      expect(loadConfig().leaseSeconds).toBe(42);
    } finally {
      delete process.env.GSR_LEASE_SECONDS;
    }
  });

  it('never shows a password, not even where console.error(error) looks (its cause)', () => {
    let error: unknown;
    try {
      loadConfig(
        {},
        {
          GSR_ETCD_USERNAME: 'svc',
          GSR_ETCD_PASSWORD: 'hunter2-secret',
          GSR_ETCD_ENDPOINTS: 'http://svc:hunter2-secret@10.0.0.1:2379',
          GSR_LEASE_SECONDS: 'x',
        },
      );
    } catch (thrown) {
      error = thrown;
    }
    expect(isConfigError(error)).toBe(true);
    expect(inspect(error, { depth: 10 })).toContain('GSR_LEASE_SECONDS');
    expect(inspect(error, { depth: 10 })).toContain('GSR_ETCD_ENDPOINTS');
    expect(inspect(error, { depth: 10 })).not.toContain('hunter2-secret');
  });

  describe('rejects a bad value with a ConfigError naming the variable and the value', () => {
    it.each([
      ['GSR_LEASE_SECONDS', 'abc', 'whole number of at least 1'],
      ['GSR_LEASE_SECONDS', '-5', 'whole number of at least 1'],
      ['GSR_LEASE_SECONDS', '0', 'whole number of at least 1'],
      ['GSR_LEASE_SECONDS', '1.5', 'whole number of at least 1'],
      ['GSR_USE_TLS', 'maybe', 'expected true or false'],
      ['GSR_LOG_MICROSECONDS', 'sometimes', 'expected true or false'],
      ['GSR_LOG_FILE_TRACE', '2', 'expected true or false'],
      ['GSR_ETCD_ENDPOINTS', 'http://a:1/path', 'has a path'],
      ['GSR_ETCD_ENDPOINTS', 'ftp://a', 'scheme "ftp"'],
      ['GSR_ETCD_ENDPOINTS', 'http://a:65536', 'not a valid'],
      ['GSR_ETCD_ENDPOINTS', 'a,,b', 'empty endpoint'],
      ['GSR_KEY_PREFIX', 'with space', 'whitespace'],
      ['GSR_ETCD_CONNECT_TIMEOUT_SECONDS', '0', 'greater than 0'],
      ['GSR_ETCD_CONNECT_TIMEOUT_SECONDS', 'soon', 'greater than 0'],
      ['GSR_ETCD_DIAL_TIMEOUT_SECONDS', '-1', 'greater than 0'],
      ['GSR_ETCD_REQUEST_TIMEOUT_SECONDS', '1s', 'greater than 0'],
      ['GSR_LOG_LEVEL', '-1', 'at least 0'],
      ['GSR_LOG_LEVEL', 'debug', 'at least 0'],
      ['GSR_KEY_LAYOUT', 'consul', 'expected one of "gsr", "etcd-naming"'],
      ['GSR_NAMING_METADATA', 'map', 'expected one of "string", "object"'],
      // Node's timers hold at most 2^31-1 ms: a longer timeout or TTL would spin, not wait.
      ['GSR_ETCD_CONNECT_TIMEOUT_SECONDS', '2147484', 'at most 2147483'],
      ['GSR_ETCD_DIAL_TIMEOUT_SECONDS', '1e9', 'greater than 0'],
      ['GSR_ETCD_REQUEST_TIMEOUT_SECONDS', '99999999', 'at most 2147483'],
      ['GSR_LEASE_SECONDS', '9000000001', 'at most 2147483'],
      ['GSR_PROTECTION_THRESHOLD', '1.5', 'a share from 0 to 1'],
      ['GSR_PROTECTION_THRESHOLD', 'half', 'a share from 0 to 1'],
      ['GSR_PROTECTION_SECONDS', '0', 'greater than 0'],
      ['GSR_STAMP_WRITES', 'sometimes', 'true or false'],
    ])('%s=%j', (variable, value, reason) => {
      const error = configErrorOf(() => loadConfig({}, { [variable]: value }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.name).toBe('ConfigError');
      expect(error.variable).toBe(variable);
      expect(error.value).toBe(value);
      expect(error.message).toContain(variable);
      expect(error.message).toContain(JSON.stringify(value));
      expect(error.message).toContain(reason);
    });

    it.each(
      Object.values(configSchema)
        .map((field) => [field.env])
        .filter(([variable]) => variable !== 'GSR_SNAPSHOT_DIR'),
    )('%s set but empty', (variable) => {
      const error = configErrorOf(() => loadConfig({}, { [variable]: '' }));
      expect(error.variable).toBe(variable);
      expect(error.message).toContain('set but empty');
    });

    it('names the option, not the variable, for a bad value given in code', () => {
      const error = configErrorOf(() => loadConfig({ leaseSeconds: 0 }, {}));
      expect(error.variable).toBe('leaseSeconds');
      expect(error.value).toBe(0);
      expect(error.message).toContain('leaseSeconds');
    });

    it('reports every bad variable at once', () => {
      const error = configErrorOf(() =>
        loadConfig({}, { GSR_LEASE_SECONDS: 'abc', GSR_USE_TLS: 'maybe' }),
      );
      expect(error.problems.map((p) => p.variable).sort()).toEqual([
        'GSR_LEASE_SECONDS',
        'GSR_USE_TLS',
      ]);
    });

    it('rejects an option it does not know', () => {
      const error = configErrorOf(() => loadConfig({ leaseSecond: 5 } as object, {}));
      expect(error.variable).toBe('leaseSecond');
      expect(error.message).toContain('is not a gsr option');
    });

    it('never echoes the password', () => {
      const error = configErrorOf(() => loadConfig({}, { GSR_ETCD_PASSWORD: '   ' }));
      expect(error.variable).toBe('GSR_ETCD_PASSWORD');
      expect(error.value).toBeUndefined();
      expect(error.message).not.toContain('   "');
    });

    it('requires a password with a user name, and the other way round', () => {
      expect(configErrorOf(() => loadConfig({}, { GSR_ETCD_USERNAME: 'u' })).variable).toBe(
        'GSR_ETCD_PASSWORD',
      );
      expect(configErrorOf(() => loadConfig({}, { GSR_ETCD_PASSWORD: 'p' })).variable).toBe(
        'GSR_ETCD_USERNAME',
      );
    });

    it('refuses a plain http endpoint when TLS is on: no silent plain text', () => {
      const error = configErrorOf(() =>
        loadConfig({}, { GSR_USE_TLS: 'true', GSR_ETCD_ENDPOINTS: 'https://a,http://b' }),
      );
      expect(error.variable).toBe('GSR_ETCD_ENDPOINTS');
      expect(error.message).toContain('plain http://');
    });

    it('refuses a mix of http and https endpoints', () => {
      const error = configErrorOf(() =>
        loadConfig({}, { GSR_ETCD_ENDPOINTS: 'https://a,http://b' }),
      );
      expect(error.message).toContain('mixes http:// and https://');
    });
  });
});
