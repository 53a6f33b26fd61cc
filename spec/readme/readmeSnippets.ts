import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/runNode';

/**
 * The documentation a user reads: the README, then every page of docs/ (which the README links), in
 * name order. Its snippets and configuration blocks are what the tests run.
 */
export function documentationPages(): { readonly file: string; readonly text: string }[] {
  const docs = readdirSync(join(repoRoot, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs].map((file) => ({
    file,
    text: readFileSync(join(repoRoot, file), 'utf8'),
  }));
}

/** A ```ts block of the documentation, where it is and what it says. */
export interface Snippet {
  /** `<section heading> #<n>`: the n-th TypeScript block under that heading. */
  readonly name: string;
  /** The page it is on (`README.md`, `docs/registration.md`). */
  readonly file: string;
  /** The page's line of the block's first line of code (1-based). */
  readonly line: number;
  readonly code: string;
  /**
   * The `GSR_*` variables its leading comments name (`// GSR_KEY_LAYOUT=etcd-naming`): the
   * environment it is written for.
   */
  readonly env: Readonly<Record<string, string>>;
}

/** Every TypeScript block of the documentation ({@link documentationPages}), in order. */
export function readmeSnippets(pages = documentationPages()): Snippet[] {
  const snippets: Snippet[] = [];
  const counts = new Map<string, number>();
  for (const { file, text } of pages) {
    snippets.push(...snippetsOf(file, text, counts));
  }
  return snippets;
}

function snippetsOf(file: string, text: string, counts: Map<string, number>): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = text.split('\n');
  let heading = '(top)';
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    const title = /^#{2,3} (.+)$/.exec(line);
    if (title?.[1] !== undefined) {
      heading = title[1];
    }
    if (line.trim() === '```ts') {
      const start = index + 1;
      let end = start;
      while (end < lines.length && lines[end]?.trim() !== '```') {
        end += 1;
      }
      const code = `${lines.slice(start, end).join('\n')}\n`;
      const n = (counts.get(heading) ?? 0) + 1;
      counts.set(heading, n);
      snippets.push({
        name: `${heading} #${n}`,
        file,
        line: start + 1,
        code,
        env: leadingEnv(code),
      });
      index = end;
    }
  }
  return snippets;
}

function leadingEnv(code: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of code.split('\n')) {
    const setting = /^\/\/ (GSR_[A-Z_]+)=(\S+)$/.exec(line);
    if (setting?.[1] === undefined || setting[2] === undefined) {
      break;
    }
    env[setting[1]] = setting[2];
  }
  return env;
}

/**
 * The text of the documentation's first ```<language> block that contains `containing`: configuration
 * the tests run as printed (Prometheus' scrape config, an xDS bootstrap file).
 */
export function readmeBlock(
  language: string,
  containing: string,
  readme = documentationPages()
    .map((page) => page.text)
    .join('\n'),
): string {
  const blocks = readme.split(/^```/m).filter((_, index) => index % 2 === 1);
  const found = blocks.find(
    (block) => block.startsWith(`${language}\n`) && block.includes(containing),
  );
  if (found === undefined) {
    throw new Error(
      `the documentation has no ${language} block with ${JSON.stringify(containing)}`,
    );
  }
  return found.slice(language.length + 1);
}
