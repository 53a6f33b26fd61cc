import type { Environment } from '../config/GsrConfig';

/**
 * Why a long-running command was asked to stop: a signal, its output was closed (`| head -1`), or its
 * output cannot be written (a full disk).
 */
export type Interruption = NodeJS.Signals | 'EPIPE' | 'output error';

/** What a CLI command reads and writes: the process's streams and environment, or a test's. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Environment;
  /**
   * Resolves when a long-running command should stop: SIGINT or SIGTERM, or standard output closed by
   * its reader. Only commands that run until interrupted call it, so that Ctrl-C still ends the others
   * the default way; it listens only until it resolves, or until `stopListening` aborts (it then never
   * resolves), so that a later Ctrl-C is the default one again.
   */
  readonly interrupted: (stopListening?: AbortSignal) => Promise<Interruption>;
}
