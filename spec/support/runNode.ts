import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface NodeRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The repository root: where `require('gsr')` resolves to this package itself. */
export const repoRoot = join(__dirname, '..', '..');

/**
 * Runs `node <args>` in the repository root and resolves when it exits. Rejects if it is still running
 * after `timeoutMs` (and kills it): a process that does not exit by itself is the failure being tested.
 */
export function runNode(
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    /** Called with each chunk of standard output as it comes, to act on what the process says. */
    onStdout?: (text: string, child: ChildProcess) => void;
  } = {},
): Promise<NodeRun> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(chunk.toString(), child);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} still running after ${timeoutMs}ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
