import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { httpGet, type HttpTls } from './httpGet';

/** How to run one `etcd` process. */
export interface EtcdServerSpec {
  /** The etcd binary. */
  readonly bin: string;
  /** Every argument, e.g. `['--name', 'm0', ...]` or `['grpc-proxy', 'start', ...]`. */
  readonly args: readonly string[];
  /** Where its output goes. */
  readonly logFile: string;
  /** `http://127.0.0.1:<port>` (or https) that clients use. */
  readonly url: string;
  /** TLS material for the health and metrics requests, when the port speaks https. */
  readonly httpTls?: HttpTls;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * One `etcd` process serving clients, a cluster member or a gRPC proxy: start it, stop it (SIGTERM),
 * kill it (SIGKILL), pause it, start it again with the same arguments, and read its health and metrics.
 */
export class EtcdServer {
  /** `http://127.0.0.1:<port>` (or https) that clients use. */
  readonly url: string;
  readonly #spec: EtcdServerSpec;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(spec: EtcdServerSpec) {
    this.#spec = spec;
    this.url = spec.url;
  }

  /** Whether the process is running. */
  get running(): boolean {
    return this.#process !== undefined;
  }

  /** The process id, while running. */
  get pid(): number | undefined {
    return this.#process?.pid;
  }

  /** Starts the process (a no-op if running). Resolves once spawned, not once healthy. */
  async start(): Promise<void> {
    if (this.#process !== undefined) {
      return;
    }
    installExitHook();
    const { bin, args, logFile } = this.#spec;
    const log = openSync(logFile, 'a');
    const child = spawn(bin, [...args], {
      stdio: ['ignore', log, log],
      env: withoutEtcdVariables(process.env),
    });
    closeSync(log);
    live.add(child);
    this.#process = child;
    this.#exited = new Promise((resolve) => {
      const gone = (): void => {
        live.delete(child);
        if (this.#process === child) {
          this.#process = undefined;
        }
        resolve();
      };
      child.once('exit', gone);
      // A process that failed to spawn emits 'error' and may never emit 'exit'.
      child.once('error', gone);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new Error(
                `etcd binary "${bin}" not found: install etcd (apt-get install -y etcd-server) or set GSR_ETCD_BIN`,
                { cause: error },
              )
            : error,
        ),
      );
    });
  }

  /** Stops the process gracefully (SIGTERM) and waits for it to exit. */
  stop(): Promise<void> {
    return this.#signal('SIGTERM');
  }

  /** Kills the process (SIGKILL), as a crash would, and waits for it to exit. */
  kill(): Promise<void> {
    return this.#signal('SIGKILL');
  }

  /** Pauses the process (SIGSTOP): it keeps its connections but answers nothing. */
  pause(): void {
    this.#process?.kill('SIGSTOP');
  }

  /** Resumes a paused process (SIGCONT). */
  resume(): void {
    this.#process?.kill('SIGCONT');
  }

  /** Whether it reports itself healthy (for a member: up, with a leader in its cluster). */
  async healthy(): Promise<boolean> {
    if (this.#process === undefined) {
      return false;
    }
    try {
      const { body } = await httpGet(`${this.url}/health`, this.#spec.httpTls, 1000);
      return (JSON.parse(body) as { health?: unknown }).health === 'true';
    } catch {
      return false;
    }
  }

  /**
   * Its Prometheus metrics: each series under its full name (`name{label="value",...}`, as etcd prints
   * it), and each name summed over its labels: e.g. `etcd_debugging_mvcc_watcher_total` is the number of
   * watchers open on a member.
   */
  async metrics(): Promise<Map<string, number>> {
    const { body } = await httpGet(`${this.url}/metrics`, this.#spec.httpTls);
    const metrics = new Map<string, number>();
    for (const line of body.split('\n')) {
      const match = /^(([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
      const [, series, name, value] = match ?? [];
      if (series !== undefined && name !== undefined && value !== undefined) {
        if (series !== name) {
          metrics.set(series, Number(value));
        }
        metrics.set(name, (metrics.get(name) ?? 0) + Number(value));
      }
    }
    return metrics;
  }

  /**
   * What clients have cost it so far, by gRPC method: the messages it received (a unary request is
   * one, and so is each keepalive or watch request on a stream), from its metrics'
   * `grpc_server_msg_received_total`. Two readings apart give the requests in between.
   *
   * @example
   * ```ts
   * const before = await etcd.members[0].requestsByMethod();
   * // ... a minute of an idle service ...
   * const after = await etcd.members[0].requestsByMethod();
   * console.log((after.LeaseKeepAlive ?? 0) - (before.LeaseKeepAlive ?? 0), 'keepalives');
   * ```
   */
  async requestsByMethod(): Promise<Record<string, number>> {
    const requests: Record<string, number> = {};
    for (const [series, value] of await this.metrics()) {
      const method = /^grpc_server_msg_received_total\{.*grpc_method="([^"]+)"/.exec(series)?.[1];
      if (method !== undefined) {
        requests[method] = (requests[method] ?? 0) + value;
      }
    }
    return requests;
  }

  /** The last lines it logged, for a failure message. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.#spec.logFile, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .join('\n');
    } catch {
      return '';
    }
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#process;
    if (child === undefined) {
      return;
    }
    if (signal === 'SIGTERM') {
      child.kill('SIGCONT'); // A paused process would never act on SIGTERM.
    }
    child.kill(signal);
    await this.#exited;
  }
}

/** etcd reads ETCD_* variables as flags; a developer's own must not leak into a throwaway server. */
function withoutEtcdVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('ETCD')));
}

/** Whatever happens to the test process, its etcd servers go with it. */
function installExitHook(): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of live) {
        child.kill('SIGKILL');
      }
    });
  }
}
