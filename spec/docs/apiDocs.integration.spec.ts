import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { repoRoot } from '../support/runNode';

// The API reference `npm run docs` builds (npm test builds it before jest): a newcomer lands on the
// README, and the search finds what the README's sections are about, not only names.

const api = join(repoRoot, 'docs', 'api');

/** The terms TypeDoc's search index knows (its index is deflated JSON in assets/search.js). */
function searchTerms(): Set<string> {
  const script = readFileSync(join(api, 'assets', 'search.js'), 'utf8');
  const data = /"([A-Za-z0-9+/=]+)"/.exec(script)?.[1] ?? '';
  const index = JSON.parse(inflateSync(Buffer.from(data, 'base64')).toString()) as {
    index: { invertedIndex: Array<[string, unknown]> };
  };
  return new Set(index.index.invertedIndex.map(([term]) => term));
}

describe('the API reference', () => {
  beforeAll(() => {
    if (!existsSync(join(api, 'index.html'))) {
      throw new Error('docs/api/ is missing: run `npm run docs` (npm test does) before this spec');
    }
  });

  it('opens on the README, and holds every page of docs/ it links to', () => {
    const index = readFileSync(join(api, 'index.html'), 'utf8');
    for (const heading of [
      'Install',
      'Quick start: the two commands',
      'Using gsr',
      'Documentation',
    ]) {
      expect(index).toContain(`>${heading}</`);
    }
    for (const [page, heading] of [
      ['configuration', 'Configuration'],
      ['metrics', 'Metrics'],
      ['cli', 'Command line'],
    ]) {
      expect(index).toContain(`href="documents/${page}.html"`);
      const html = readFileSync(join(api, 'documents', `${page}.html`), 'utf8');
      expect(html).toContain(`>${heading}</`);
    }
  });

  it('finds the configuration, its variables and the metrics', () => {
    const terms = searchTerms();
    for (const term of [
      'configuration',
      'gsr_etcd_endpoints',
      'metrics',
      'meterprovider',
      'prometheus',
    ]) {
      expect(terms).toContain(term);
    }
  });

  it('is linked from the README', () => {
    expect(readFileSync(join(repoRoot, 'README.md'), 'utf8')).toContain('`docs/api/index.html`');
  });
});
