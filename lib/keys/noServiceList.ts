import { ValidationError } from '../errors/ValidationError';

/**
 * The one rule about listing services, and its error: etcd's naming layout has no services root (a
 * target is any string, and its endpoint keys may hold `/`), so its targets cannot be listed; whatever
 * would list them must be given them (`field`) instead.
 * @internal
 */
export function noServiceList(field: string, value: unknown, instead: string): ValidationError {
  return new ValidationError(
    field,
    value,
    `etcd's naming layout has no services root (a target is any string, and its keys may hold "/"), so its targets cannot be listed: ${instead}`,
  );
}
