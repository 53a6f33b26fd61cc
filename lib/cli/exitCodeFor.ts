import { CommanderError } from 'commander';
import { isConfigError } from '../errors/ConfigError';
import { isValidationError } from '../errors/ValidationError';

/** 2 for bad arguments or configuration (the user's to fix), 1 for everything else (etcd's state). */
export function exitCodeFor(error: unknown): 1 | 2 {
  if (error instanceof CommanderError || isValidationError(error) || isConfigError(error)) {
    return 2;
  }
  return 1;
}
