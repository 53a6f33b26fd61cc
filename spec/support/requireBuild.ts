import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './runNode';

/** The newest modification time of the files under `dir`. */
function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map(
      (file) => statSync(join(dir, file)).mtimeMs,
    ),
  );
}

/**
 * For specs that run the compiled package (`dist/`), as its users do: fails them at once, saying why,
 * when it is missing or older than the sources, rather than with a confusing "module not found" or a
 * stale result.
 */
export function requireBuild(): void {
  let built: number;
  try {
    built = statSync(join(repoRoot, 'dist', 'index.js')).mtimeMs;
  } catch {
    throw new Error(
      'dist/ is missing: this spec runs the compiled package; run `npm run build` (npm test does)',
    );
  }
  if (newest(join(repoRoot, 'lib')) > built) {
    throw new Error(
      'dist/ is older than lib/: run `npm run build` (npm test does) before this spec',
    );
  }
}
