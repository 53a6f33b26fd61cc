import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/runNode';

/** A ```ts block of the README, where it is and what it says. */
export interface Snippet {
  /** `<section heading> #<n>`: the n-th TypeScript block under that heading. */
  readonly name: string;
  /** The README's line of the block's first line of code (1-based). */
  readonly line: number;
  readonly code: string;
  /**
   * The `GSR_*` variables its leading comments name (`// GSR_KEY_LAYOUT=etcd-naming`): the
   * environment it is written for.
   */
  readonly env: Readonly<Record<string, string>>;
}

/** Every TypeScript block of `README.md`, in order. */
export function readmeSnippets(
  readme = readFileSync(join(repoRoot, 'README.md'), 'utf8'),
): Snippet[] {
  const snippets: Snippet[] = [];
  const counts = new Map<string, number>();
  const lines = readme.split('\n');
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
      snippets.push({ name: `${heading} #${n}`, line: start + 1, code, env: leadingEnv(code) });
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
 * The text of the README's first ```<language> block that contains `containing`: configuration the
 * tests run as printed (Prometheus' scrape config, an xDS bootstrap file).
 */
export function readmeBlock(
  language: string,
  containing: string,
  readme = readFileSync(join(repoRoot, 'README.md'), 'utf8'),
): string {
  const blocks = readme.split(/^```/m).filter((_, index) => index % 2 === 1);
  const found = blocks.find(
    (block) => block.startsWith(`${language}\n`) && block.includes(containing),
  );
  if (found === undefined) {
    throw new Error(`README.md has no ${language} block with ${JSON.stringify(containing)}`);
  }
  return found.slice(language.length + 1);
}
