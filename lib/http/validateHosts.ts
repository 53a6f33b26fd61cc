import { ValidationError } from '../errors/ValidationError';
import { hostOf } from './hostAllowed';

/**
 * Checks the host names a server is told to answer to besides loopback (an `allowedHosts` option):
 * each must be a name or an address that a `Host` header could carry.
 * @throws {@link ValidationError} naming `allowedHosts` and the first that is not.
 * @internal
 */
export function validateHosts(hosts: readonly string[] | undefined): readonly string[] {
  for (const host of hosts ?? []) {
    if (hostOf(host) === undefined) {
      throw new ValidationError('allowedHosts', host, 'expected a host name or address');
    }
  }
  return hosts ?? [];
}
