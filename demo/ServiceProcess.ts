import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** A demo service running in a child process, its output prefixed with its name. */
export class ServiceProcess {
  readonly #child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(
    readonly service: string,
    readonly instance: string,
    env: NodeJS.ProcessEnv,
    print: (line: string) => void,
    args: readonly string[] = [],
  ) {
    this.#child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'service.ts'), service, instance, ...args],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString().trimEnd().split('\n')) {
        print(`[${instance}] ${line}`);
      }
    };
    this.#child.stdout?.on('data', forward);
    this.#child.stderr?.on('data', forward);
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
  }

  /** Sends `signal`, for the process to act on while it runs (SIGUSR2: the demo's "be slow"). */
  send(signal: 'SIGUSR2'): void {
    this.#child.kill(signal);
  }

  /** Sends `signal` and waits for the process to exit; resolves with its exit code. */
  async signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    this.#child.kill(signal);
    return this.exited;
  }
}
