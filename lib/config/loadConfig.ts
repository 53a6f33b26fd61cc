import convict from 'convict';
import { ConfigError, type ConfigProblem } from '../errors/ConfigError';
import { configFields } from './configFields';
import type { Environment, GsrConfig, GsrOptions } from './GsrConfig';
import { parseEtcdEndpoints } from './parseEtcdEndpoints';

type Key = keyof GsrConfig;
const keys = Object.keys(configFields) as Key[];

/**
 * Reads gsr's configuration from `GSR_*` environment variables and `options` (which win), validates
 * every value and returns it normalised. `Registry.connect()` calls it; call it yourself to fail fast at
 * start-up, before anything else is set up.
 *
 * An empty variable is an error, not "unset": `GSR_LEASE_SECONDS=` is far more likely a broken template
 * than a wish for the default.
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
  const problems: ConfigProblem[] = [];
  const given = new Set(
    // An option explicitly set to `undefined` counts as not given.
    Object.entries(options as Record<string, unknown>)
      .filter(([, value]) => value !== undefined)
      .map(([name]) => name),
  );
  const nameOf = (key: Key): string => (given.has(key) ? key : configFields[key].env);
  const report = (key: Key, value: unknown, reason: string): void => {
    problems.push({
      variable: nameOf(key),
      value: configFields[key].sensitive === true ? undefined : value,
      reason,
    });
  };

  for (const name of given) {
    if (!(name in configFields)) {
      problems.push({ variable: name, value: undefined, reason: 'is not a gsr option' });
    }
  }
  const ours = new Map(keys.map((key) => [configFields[key].env as string, key]));
  for (const [variable, value] of Object.entries(env)) {
    const key = ours.get(variable);
    if (key !== undefined && !given.has(key) && value?.trim() === '') {
      report(key, value, 'is set but empty (unset it to use the default)');
    }
  }
  throwIfAny(problems);

  const schema = Object.fromEntries(
    keys.map((key) => {
      const field = configFields[key];
      const format = (value: unknown): void => {
        try {
          field.parse(value);
        } catch (error) {
          report(key, value, (error as Error).message);
          throw error;
        }
      };
      return [
        key,
        {
          doc: field.doc,
          // A string (or null) default keeps convict from coercing the environment by the default's
          // type, which would turn GSR_USE_TLS=maybe into true; our parsers read the raw text instead.
          default: field.default === null ? null : String(field.default),
          env: field.env,
          format,
          nullable: field.default === null,
          sensitive: field.sensitive === true,
        },
      ];
    }),
  );
  // convict lets the environment override loaded values; options must win, so hide what they override.
  const visibleEnv = Object.fromEntries(
    Object.entries(env).filter(([variable]) => {
      const key = ours.get(variable);
      return key !== undefined && !given.has(key);
    }),
  );
  const merged = convict(schema, { env: visibleEnv, args: [] });
  merged.load(Object.fromEntries([...given].map((key) => [key, options[key as Key]])));
  try {
    merged.validate({ allowed: 'strict' });
  } catch (error) {
    throwIfAny(problems, error);
    throw error;
  }

  const raw = merged.getProperties() as Record<Key, unknown>;
  const config = Object.fromEntries(
    keys.map((key) => [key, configFields[key].parse(raw[key])]),
  ) as unknown as { -readonly [K in Key]: GsrConfig[K] };

  // Settings that are only wrong together.
  config.etcdEndpoints = parseEtcdEndpoints(raw.etcdEndpoints, config.useTls ? 'https' : 'http');
  const schemes = new Set(config.etcdEndpoints.map((url) => new URL(url).protocol));
  if (config.useTls && schemes.has('http:')) {
    report(
      'etcdEndpoints',
      raw.etcdEndpoints,
      `names a plain http:// endpoint while ${nameOf('useTls')} is true (use https:// or no scheme)`,
    );
  } else if (schemes.size > 1) {
    report('etcdEndpoints', raw.etcdEndpoints, 'mixes http:// and https:// endpoints');
  }
  if ((config.etcdUsername === undefined) !== (config.etcdPassword === undefined)) {
    const missing = config.etcdUsername === undefined ? 'etcdUsername' : 'etcdPassword';
    const other = missing === 'etcdUsername' ? 'etcdPassword' : 'etcdUsername';
    report(missing, undefined, `is required when ${nameOf(other)} is set`);
  }
  throwIfAny(problems);
  return Object.freeze({ ...config, etcdEndpoints: Object.freeze([...config.etcdEndpoints]) });
}

function throwIfAny(problems: readonly ConfigProblem[], cause?: unknown): void {
  const [first, ...rest] = problems;
  if (first !== undefined) {
    throw new ConfigError([first, ...rest], cause === undefined ? undefined : { cause });
  }
}
