import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import convict from 'convict';
import { ConfigError, type ConfigProblem } from '../errors/ConfigError';
import { messageOf } from '../errors/messageOf';
import { maskCredentials } from '../text/maskCredentials';
import { configFormats } from './configFormats';
import { configSchema } from './configSchema';
import type { Environment, GsrConfig, GsrOptions } from './GsrConfig';
import { normalizeKeyPrefix } from './normalizeKeyPrefix';
import { parseEtcdEndpoints } from './parseEtcdEndpoints';

/**
 * What convict's validation refused, by variable, while one `validate()` runs (it is synchronous): each
 * format says why as data, where convict's own error is one line of text for all of them.
 */
let refused: Map<string, string> | undefined;

convict.addFormats(
  Object.fromEntries(
    Object.entries(configFormats).map(([name, format]) => [
      name,
      {
        ...format,
        validate(value: unknown, schema: { readonly env?: string }) {
          try {
            format.validate(value);
          } catch (error) {
            refused?.set(schema.env ?? name, messageOf(error));
            throw error;
          }
        },
      },
    ]),
  ),
);

type Key = keyof GsrConfig;

/**
 * The settings as convict holds them once its formats accepted them: what {@link GsrConfig} is before
 * the endpoints are parsed, the prefix normalised and unset optional settings made `undefined`.
 */
type Settings = Omit<GsrConfig, 'etcdEndpoints' | OptionalKey> & {
  readonly etcdEndpoints: string | readonly string[];
} & { readonly [K in OptionalKey]: string | null };
type OptionalKey = 'tlsCaPath' | 'etcdUsername' | 'etcdPassword' | 'snapshotDir';
const KEYS = Object.keys(configSchema) as Key[];

/** Where a setting's effective value came from. */
type ConfigSource = 'option' | 'environment' | 'default';

/** A configuration and where each of its values came from. @internal */
interface ConfigReading {
  readonly config: GsrConfig;
  readonly sources: { readonly [K in Key]: ConfigSource };
}

/**
 * Reads gsr's configuration from `GSR_*` environment variables and `options` (which win), validates
 * every value and returns it normalised. `Registry.connect()` calls it; call it yourself to fail fast at
 * start-up, before anything else is set up.
 *
 * An empty variable is an error, not "unset": `GSR_LEASE_SECONDS=` is far more likely a broken template
 * than a wish for the default. Durations are bounded by what Node's timers hold (2^31-1 ms).
 *
 * @param options Settings given in code; each wins over its environment variable.
 * @param env The environment to read, `process.env` by default.
 * @throws {@link ConfigError} naming every invalid variable (or option) and its value.
 *
 * @example
 * ```ts
 * import { loadConfig } from 'gsr';
 *
 * const config = loadConfig(); // throws ConfigError on GSR_LEASE_SECONDS=abc
 * console.log(config.etcdEndpoints, config.keyPrefix);
 * ```
 */
export function loadConfig(options: GsrOptions = {}, env: Environment = process.env): GsrConfig {
  return readConfig(options, env).config;
}

/**
 * {@link loadConfig}, and where each value came from: convict holds the schema's defaults, imports the
 * environment, and takes the options given in code over it with `set()`; its strict validation decides.
 * @internal
 */
export function readConfig(options: GsrOptions, env: Environment): ConfigReading {
  const given = Object.entries(options as Readonly<Record<string, unknown>>).filter(
    // An option explicitly set to `undefined` counts as not given.
    ([, value]) => value !== undefined,
  );
  const sources = Object.fromEntries(
    KEYS.map((key) => [
      key,
      given.some(([name]) => name === key)
        ? 'option'
        : env[configSchema[key].env] !== undefined
          ? 'environment'
          : 'default',
    ]),
  ) as Record<Key, ConfigSource>;
  const nameOf = (key: Key): string => (sources[key] === 'option' ? key : configSchema[key].env);
  const problems: ConfigProblem[] = given
    .filter(([name]) => !(name in configSchema))
    .map(([name]) => ({ variable: name, value: undefined, reason: 'is not a gsr option' }));

  // gsr's schema in convict's terms: its formats and `nullable` make the values what Settings says.
  const settings = convict<Settings>(configSchema as unknown as convict.Schema<Settings>, {
    env,
    args: [],
  });
  for (const [name, value] of given) {
    if (name in configSchema) {
      settings.set(name as Key, value as never);
    }
  }
  const refusals = new Map<string, string>();
  refused = refusals;
  try {
    settings.validate({ allowed: 'strict' });
  } catch (error) {
    for (const key of KEYS) {
      const reason = refusals.get(configSchema[key].env);
      if (reason !== undefined) {
        const shown = sources[key] === 'environment' ? env[configSchema[key].env] : options[key];
        problems.push({
          variable: nameOf(key),
          value: configSchema[key].sensitive === true ? undefined : shown,
          reason,
        });
      }
    }
    // convict's own error quotes values, a password among them: it is never kept as a cause.
    throwIfAny(problems);
    const secrets = KEYS.filter((key) => configSchema[key].sensitive === true)
      .map((key) => (sources[key] === 'environment' ? env[configSchema[key].env] : options[key]))
      .filter((value): value is string => typeof value === 'string' && value !== '');
    const reason = secrets.reduce(
      (text, secret) => text.split(secret).join('****'),
      maskCredentials(messageOf(error)),
    );
    throw new ConfigError([{ variable: 'configuration', value: undefined, reason }]);
  } finally {
    refused = undefined;
  }
  throwIfAny(problems);

  const raw = settings.getProperties();
  const { useTls, keyLayout } = raw;
  // etcd's naming layout names keys from the root of the keyspace, as Go's endpoints manager does.
  const rootByDefault = keyLayout === 'etcd-naming' && sources.keyPrefix === 'default';
  const config: GsrConfig = {
    etcdEndpoints: Object.freeze(parseEtcdEndpoints(raw.etcdEndpoints, useTls ? 'https' : 'http')),
    keyLayout,
    keyPrefix: rootByDefault ? '' : normalizeKeyPrefix(raw.keyPrefix),
    namingMetadata: raw.namingMetadata,
    connectTimeoutSeconds: raw.connectTimeoutSeconds,
    waitForEtcd: raw.waitForEtcd,
    dialTimeoutSeconds: raw.dialTimeoutSeconds,
    requestTimeoutSeconds: raw.requestTimeoutSeconds,
    useTls,
    tlsCertPath: raw.tlsCertPath,
    tlsKeyPath: raw.tlsKeyPath,
    tlsCaPath: raw.tlsCaPath ?? undefined,
    etcdUsername: raw.etcdUsername ?? undefined,
    etcdPassword: raw.etcdPassword ?? undefined,
    logLevel: raw.logLevel,
    logMicroseconds: raw.logMicroseconds,
    logFileTrace: raw.logFileTrace,
    leaseSeconds: raw.leaseSeconds,
    drainDelayMs: raw.drainDelayMs,
    snapshotDir: raw.snapshotDir === '' ? '' : resolve(raw.snapshotDir ?? defaultSnapshotDir()),
    snapshotMaxAgeSeconds: raw.snapshotMaxAgeSeconds,
    protectionThreshold: raw.protectionThreshold,
    protectionSeconds: raw.protectionSeconds,
    stampWrites: raw.stampWrites,
  };

  // Settings that are only wrong together.
  const schemes = new Set(config.etcdEndpoints.map((url) => new URL(url).protocol));
  if (useTls && schemes.has('http:')) {
    const reason = `names a plain http:// endpoint while ${nameOf('useTls')} is true (use https:// or no scheme)`;
    problems.push({ variable: nameOf('etcdEndpoints'), value: raw.etcdEndpoints, reason });
  } else if (schemes.size > 1) {
    const reason = 'mixes http:// and https:// endpoints';
    problems.push({ variable: nameOf('etcdEndpoints'), value: raw.etcdEndpoints, reason });
  }
  if ((config.etcdUsername === undefined) !== (config.etcdPassword === undefined)) {
    const [missing, other]: [Key, Key] =
      config.etcdUsername === undefined
        ? ['etcdUsername', 'etcdPassword']
        : ['etcdPassword', 'etcdUsername'];
    const reason = `is required when ${nameOf(other)} is set`;
    problems.push({ variable: nameOf(missing), value: undefined, reason });
  }
  throwIfAny(problems);
  return { config: Object.freeze(config), sources: Object.freeze(sources) };
}

function throwIfAny(problems: readonly ConfigProblem[]): void {
  const [first, ...rest] = problems;
  if (first !== undefined) {
    throw new ConfigError([first, ...rest]);
  }
}

/**
 * The per-user cache directory (XDG's, else `~/.cache`), where snapshots go unless told otherwise: the
 * process's own, like its home directory, whatever environment gsr's variables are read from.
 */
function defaultSnapshotDir(): string {
  const cache = process.env.XDG_CACHE_HOME;
  return join(
    cache !== undefined && cache.startsWith('/') ? cache : join(homedir(), '.cache'),
    'gsr',
  );
}
