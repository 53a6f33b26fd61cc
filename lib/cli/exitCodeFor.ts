import { CommanderError } from 'commander';
import { isConfigError } from '../errors/ConfigError';
import { isPreconditionError } from '../errors/PreconditionError';
import { isValidationError } from '../errors/ValidationError';

/**
 * 2 for bad arguments or configuration, or an argument the state of things refuses (a port that is
 * taken, an address the service does not list): the user's to fix; 1 for everything else (etcd's state).
 */
export function exitCodeFor(error: unknown): 1 | 2 {
  if (
    error instanceof CommanderError ||
    isValidationError(error) ||
    isConfigError(error) ||
    (isPreconditionError(error) && error.field !== undefined)
  ) {
    return 2;
  }
  return 1;
}
