import type { Environment } from '../config/GsrConfig';
import { unknownVariables } from '../config/unknownVariables';
import type { WarnLog } from './OnceLog';

/**
 * Warns once per `GSR_*` variable of `env` that gsr does not read, with the one it likely meant: a
 * misspelt variable would otherwise fall back to a default without a word.
 * @internal
 */
export function warnUnknownVariables(log: WarnLog, env: Environment): void {
  for (const { variable, suggestion } of unknownVariables(env)) {
    log.warn(
      `ignoring ${variable}: gsr reads no such variable${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}`,
    );
  }
}
