import { configSchema } from '../../config/configSchema';
import type { GsrConfig } from '../../config/GsrConfig';
import { readConfig } from '../../config/loadConfig';
import { escapeText } from '../../text/escapeText';
import type { CliIo } from '../CliIo';

/**
 * `gsr config [--json]`: the effective configuration, one variable per line with its value and where it
 * came from (`default` or `environment`); the password is masked. It validates like `connect()` and
 * contacts nothing.
 */
export function showConfig(io: CliIo, options: { readonly json?: boolean }): void {
  const { config, sources } = readConfig({}, io.env);
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
    return { variable: setting.env, option: key, value: shown, source: sources[key] };
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
