import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from '../../lib/config/configSchema';

/** The rows of the configuration table (docs/configuration.md): variable, option, default. */
function readmeRows(): Map<string, { option: string; default: string }> {
  const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
  const rows = new Map<string, { option: string; default: string }>();
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const variable = /^`(GSR_[A-Z_]+)`$/.exec(cells[1] ?? '')?.[1];
    const option = /^`(\w+)`$/.exec(cells[2] ?? '')?.[1];
    if (variable !== undefined && option !== undefined) {
      rows.set(variable, { option, default: cells[3] ?? '' });
    }
  }
  return rows;
}

describe('the configuration table (docs/configuration.md)', () => {
  const rows = readmeRows();

  it('lists exactly the variables of the schema', () => {
    expect([...rows.keys()].sort()).toEqual(
      Object.values(configSchema)
        .map((setting) => setting.env)
        .sort(),
    );
  });

  it.each(Object.entries(configSchema))(
    'gives %s its variable, option and default',
    (key, setting) => {
      const row = rows.get(setting.env);
      expect(row?.option).toBe(key);
      if (setting.default === null) {
        expect(row?.default).toMatch(/^\(.+\)$/); // e.g. "(none)", "(system roots)"
      } else {
        expect(row?.default).toBe(`\`${String(setting.default)}\``);
      }
    },
  );
});
