import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSTRUMENTS } from '../../lib/metrics/instruments';

const KINDS = {
  counter: 'Counter',
  updowncounter: 'UpDownCounter',
  histogram: 'Histogram',
  gauge: 'Gauge',
} as const;

/** The rows of the table of instruments (docs/metrics.md): name, kind, unit and attributes cell. */
function readmeRows(): Map<string, { kind: string; unit: string; attributes: string }> {
  const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'metrics.md'), 'utf8');
  const rows = new Map<string, { kind: string; unit: string; attributes: string }>();
  for (const line of readme.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`(gsr\.[a-z_.]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name !== undefined) {
      rows.set(name, {
        kind: cells[2] ?? '',
        unit: cells[3] ?? '',
        attributes: cells[4] ?? '',
      });
    }
  }
  return rows;
}

describe('the table of metrics (docs/metrics.md)', () => {
  const rows = readmeRows();

  it('lists exactly the instruments gsr makes', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(INSTRUMENTS).sort());
  });

  it.each(Object.entries(INSTRUMENTS))('gives %s its kind, unit and attributes', (name, spec) => {
    const row = rows.get(name);
    expect(row?.kind).toBe(KINDS[spec.kind]);
    expect(row?.unit).toBe(`\`${spec.unit}\``);
    const documented = [...(row?.attributes ?? '').matchAll(/`(gsr\.[a-z_.]+)`/g)].map((m) => m[1]);
    expect(documented).toEqual([...spec.attributes]);
  });
});
