#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../errors/messageOf';
import type { Interruption } from './CliIo';

const { version } = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
) as { version: string };

// A reader that goes away (`gsr watch web | head -1`) is a normal way for a command to end, not a
// crash: the next write fails with EPIPE, which ends a long-running command quietly (a registration
// is still deregistered). Any other output error (a full disk: ENOSPC) ends it too, with one line on
// stderr and exit code 1, never a stack trace: a registration is still deregistered first.
let outputFailed = false;
process.stderr.on('error', () => undefined); // Nowhere left to say anything.
const outputClosed = new Promise<Interruption>((resolve) => {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      resolve('EPIPE');
      return;
    }
    if (!outputFailed) {
      outputFailed = true;
      process.exitCode = 1;
      process.stderr.write(`gsr: cannot write the output: ${messageOf(error)}\n`);
    }
    resolve('output error');
  });
});

// Each wait listens for the signals only while it waits: a listener left behind would swallow the
// next Ctrl-C, which then neither stops the command nor ends the process.
const interrupted = (stopListening?: AbortSignal): Promise<Interruption> =>
  new Promise((resolve) => {
    const stop = (why: Interruption | undefined): void => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      stopListening?.removeEventListener('abort', onAbort);
      if (why !== undefined) {
        resolve(why);
      }
    };
    const onInterrupt = (): void => stop('SIGINT');
    const onTerminate = (): void => stop('SIGTERM');
    const onAbort = (): void => stop(undefined);
    if (stopListening?.aborted === true) {
      return;
    }
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onTerminate);
    stopListening?.addEventListener('abort', onAbort, { once: true });
    void outputClosed.then(stop);
  });

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  // Answered before the command line's code is even loaded.
  process.stdout.write(`${version}\n`);
} else {
  // The commands, and etcd3, gRPC and RxJS with them, load only when one runs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runCli } = require('./runCli') as typeof import('./runCli');
  void runCli(
    argv,
    { stdout: process.stdout, stderr: process.stderr, env: process.env, interrupted },
    version,
  ).then((code) => {
    process.exitCode = outputFailed ? 1 : code;
  });
}
