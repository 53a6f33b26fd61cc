import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** A README snippet running as its own Node process. */
export interface SnippetProcess {
  /** Resolves once its standard output matches `pattern`; rejects, with what it said, after `ms`. */
  printed(pattern: RegExp, ms?: number): Promise<void>;
  /** Sends it a signal. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves when it exits; rejects (and kills it) if it still runs after `ms`. */
  exit(ms?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stdout: string;
  readonly stderr: string;
}

const running = new Set<ChildProcess>();

/** Kills every snippet still running: after a test that failed half-way. */
export function killSnippets(): void {
  running.forEach((child) => child.kill('SIGKILL'));
  running.clear();
}

/** Runs `<dir>/<name>.mjs` with `node`, in `dir`, with `env` over this process's environment. */
export function runSnippet(dir: string, name: string, env: NodeJS.ProcessEnv): SnippetProcess {
  const child = spawn(process.execPath, [join(dir, `${name}.mjs`)], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    listeners.forEach((listener) => listener());
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const said = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    printed: (pattern, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout)) {
            done();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name} did not print ${pattern} within ${ms}ms\n${said()}`));
        }, ms);
        void exited.then(() => {
          if (!pattern.test(stdout)) {
            done();
            reject(new Error(`${name} exited without printing ${pattern}\n${said()}`));
          }
        });
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    signal: (signal) => child.kill(signal),
    exit: async (ms = 30_000) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${name} was still running after ${ms}ms\n${said()}`));
        }, ms);
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
