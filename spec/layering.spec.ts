import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

/**
 * lib/'s folders, lowest first: a folder imports only from folders before it (and from itself), so that
 * the code has no cycles and each layer can be read knowing only those below it. `testing` stands alone.
 */
const LAYERS = [
  'text',
  'errors',
  'endpoint',
  'locality',
  'config',
  'keys',
  'logging',
  'metrics',
  'etcd',
  'orca',
  'snapshot',
  'discovery',
  'registration',
  'registry',
  'balancing',
  'grpc',
  'undici',
  'http',
  'ui',
  'http-sd',
  'xds',
  'cli',
];
const lib = join(__dirname, '..', 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const folderOf = (file: string): string => relative(lib, file).split(sep)[0] ?? '';

describe('lib/ layering', () => {
  const files = sources(lib).filter((file) => relative(lib, file).includes(sep));

  it('knows every folder', () => {
    const folders = new Set(files.map(folderOf));
    folders.delete('testing');
    expect([...folders].filter((folder) => !LAYERS.includes(folder))).toEqual([]);
  });

  it.each(files.map((file) => [relative(lib, file), file]))(
    '%s imports only from its own folder and those below it',
    (_name, file) => {
      const from = folderOf(file);
      const imports = [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)].map((match) =>
        folderOf(resolve(dirname(file), match[1] ?? '')),
      );
      const upward = imports.filter((to) =>
        from === 'testing' ? to !== 'testing' : LAYERS.indexOf(to) > LAYERS.indexOf(from),
      );
      expect(upward).toEqual([]);
    },
  );

  it('talks to etcd through one port: only its etcd3 adapter (lib/etcd/etcd3/) imports etcd3', () => {
    const importers = files
      .filter((file) => /from 'etcd3'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(lib, file).split(sep).join('/'));
    expect(importers.filter((file) => !file.startsWith('etcd/etcd3/'))).toEqual([]);
    expect(importers).toContain('etcd/etcd3/Etcd3Port.ts');
  });

  it('has no import cycle but type-only ones', () => {
    // Value imports only: `import type` (and `import { type X }` alone) vanish when compiled.
    const edges = new Map(
      sources(lib).map((file) => {
        const text = readFileSync(file, 'utf8');
        const targets = [...text.matchAll(/^import (?!type )([^;]*?) from '(\.[^']+)';/gms)]
          .filter(([, what]) => !/^\{(\s*type [^,}]+,?)+\s*\}$/s.test(what ?? ''))
          .map((match) => `${resolve(dirname(file), match[2] ?? '')}.ts`)
          .map((target) =>
            sources(lib).includes(target) ? target : target.replace(/\.ts$/, '/index.ts'),
          );
        return [file, targets];
      }),
    );
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') {
        return;
      }
      if (state.get(file) === 'visiting') {
        const loop = path.slice(path.indexOf(file));
        cycles.push([...loop, file].map((f) => relative(lib, f)).join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const target of edges.get(file) ?? []) {
        visit(target, [...path, file]);
      }
      state.set(file, 'done');
    };
    [...edges.keys()].forEach((file) => visit(file, []));
    expect(cycles).toEqual([]);
  });
});
