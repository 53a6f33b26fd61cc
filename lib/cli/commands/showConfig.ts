import { configSchema } from '../../config/configSchema';
import type { GsrConfig, GsrOptions } from '../../config/GsrConfig';
import { readConfig } from '../../config/loadConfig';
import { escapeText } from '../../text/escapeText';
import type { CliIo } from '../CliIo';
import type { GlobalFlags } from '../cliOptions';

/** The flag that sets each option, where one does. */
const FLAGS: Partial<Record<keyof GsrConfig, keyof GlobalFlags>> = {
  etcdEndpoints: 'endpoints',
  etcdUsername: 'user',
  etcdPassword: 'passwordFile',
  connectTimeoutSeconds: 'connectTimeout',
};
const FLAG_NAMES: Record<keyof GlobalFlags, string> = {
  endpoints: '--endpoints',
  user: '--user',
  passwordFile: '--password-file',
  connectTimeout: '--connect-timeout',
};

/**
 * `gsr config [--json]`: the effective configuration, one variable per line with its value and where it
 * came from (`default`, `environment`, a flag such as `--endpoints`, or `gsr's default` for what the
 * command line sets itself); the password is masked. It validates like `connect()` and contacts nothing.
 */
export function showConfig(
  io: CliIo,
  settings: GsrOptions,
  options: { readonly json?: boolean },
  flags: GlobalFlags = {},
): void {
  const { config, sources } = readConfig(settings, io.env);
  const rows = (Object.keys(configSchema) as (keyof GsrConfig)[]).map((key) => {
    const setting = configSchema[key];
    const value = config[key];
    const shown =
      value === undefined
        ? null
        : setting.sensitive === true
          ? '********'
          : Array.isArray(value)
            ? value.join(',')
            : value;
    // Given in code, for the command line, means a flag, or the command's own default.
    const flag = FLAGS[key];
    const source =
      sources[key] !== 'option'
        ? sources[key]
        : flag !== undefined && flags[flag] !== undefined
          ? FLAG_NAMES[flag]
          : "gsr's default";
    return { variable: setting.env, option: key, value: shown, source };
  });
  if (options.json === true) {
    io.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const texts = rows.map(({ value }) => (value === null ? '(none)' : escapeText(String(value))));
  const width = Math.max(...rows.map((row) => row.variable.length));
  const valueWidth = Math.max(...texts.map((text) => text.length));
  rows.forEach(({ variable, source }, i) => {
    io.stdout.write(
      `${variable.padEnd(width)}  ${(texts[i] ?? '').padEnd(valueWidth)}  ${source}\n`,
    );
  });
}
