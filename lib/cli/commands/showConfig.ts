import { configSchema } from '../../config/configSchema';
import type { GsrConfig, GsrOptions } from '../../config/GsrConfig';
import { readConfig } from '../../config/loadConfig';
import { escapeText } from '../../text/escapeText';
import type { CliIo } from '../CliIo';

/**
 * `gsr config [--json]`: the effective configuration, one variable per line with its value and where it
 * came from (`default` or `environment`); the password is masked. It validates like `connect()` and
 * contacts nothing.
 */
export function showConfig(
  io: CliIo,
  settings: GsrOptions,
  options: { readonly json?: boolean },
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
    // Given in code, for the command line, means a flag (or the command's own default).
    const source = sources[key] === 'option' ? 'command line' : sources[key];
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
