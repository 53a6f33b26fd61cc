import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { repoRoot } from '../support/runNode';
import type { Snippet } from './readmeSnippets';

/** Where the snippets are compiled: inside the package, so that `import 'gsr'` is the package itself. */
export const snippetDir = join(repoRoot, 'build', 'readme');

/** A snippet's file name, from its name: `using-gsr-1`. */
export const slugOf = (snippet: Snippet): string =>
  snippet.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/**
 * Type-checks every snippet as its own ES module, as a user's strict TypeScript would (`import 'gsr'`
 * resolving to the built package's types), and emits the runnable `.mjs` files. Returns the errors, each
 * with the README line it is on; nothing is emitted when there is one.
 */
export function compileSnippets(snippets: readonly Snippet[]): string[] {
  rmSync(snippetDir, { recursive: true, force: true });
  mkdirSync(snippetDir, { recursive: true });
  const files = snippets.map((snippet) => {
    const file = join(snippetDir, `${slugOf(snippet)}.mts`);
    writeFileSync(file, snippet.code);
    return { file, snippet };
  });
  const program = ts.createProgram(
    files.map(({ file }) => file),
    {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts'],
      types: ['node'],
      skipLibCheck: true,
      noEmitOnError: true,
      outDir: snippetDir,
      rootDir: snippetDir,
    },
  );
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length === 0) {
    program.emit();
  }
  return diagnostics.map((diagnostic) => {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const at = files.find(({ file }) => file === diagnostic.file?.fileName);
    if (at === undefined || diagnostic.start === undefined || diagnostic.file === undefined) {
      return text;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${at.snippet.file}:${at.snippet.line + line} (${at.snippet.name}): ${text}`;
  });
}
