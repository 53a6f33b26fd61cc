import type { Logger } from 'winston';
import { loadConfig } from '../config/loadConfig';
import { createLogger } from './createLogger';

/**
 * gsr's stderr logger as the environment configures it (GSR_LOG_*), for parts used without a registry
 * (a balancer over a list of your own). An invalid variable is `Registry.connect()`'s to report: here
 * it falls back to errors only.
 * @internal
 */
export function defaultLogger(): Logger {
  built ??= build();
  return built;
}

/** Built once, when first needed: a balancer that never logs never builds it. */
let built: Logger | undefined;

function build(): Logger {
  try {
    return createLogger(loadConfig());
  } catch {
    return createLogger({ logLevel: 0, logMicroseconds: false, logFileTrace: false });
  }
}
