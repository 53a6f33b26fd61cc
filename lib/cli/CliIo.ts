import type { Environment } from '../config/GsrConfig';

/** What a CLI command reads and writes: the process's streams and environment, or a test's. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Environment;
  /**
   * Resolves when the user asks a long-running command to stop (SIGINT or SIGTERM). Only commands that
   * run until interrupted call it, so that Ctrl-C still ends the others the default way.
   */
  readonly interrupted: () => Promise<NodeJS.Signals>;
}
