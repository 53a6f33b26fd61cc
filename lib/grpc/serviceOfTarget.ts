import type { experimental } from '@grpc/grpc-js';
import { ValidationError } from '../errors/ValidationError';

/**
 * The gsr service a gRPC target names: `gsr:///<service>` (or `gsr:<service>`); under etcd's naming
 * layout, `gsr:///<target>`, which may hold `/` (`gsr:///prod/greeter`). An authority
 * (`gsr://host/<service>`) is refused rather than ignored: the registry the resolver was installed with
 * decides which etcd is asked, and a target that seems to say otherwise would mislead.
 *
 * @param text - The target as the user wrote it, for the error message.
 * @throws {@link ValidationError} naming the target and its value.
 * @internal
 */
export function serviceOfTarget(
  target: experimental.GrpcUri,
  text: string,
  validateService: (service: string) => string,
): string {
  if (target.authority !== undefined && target.authority !== '') {
    throw new ValidationError('gRPC target', text, 'expected no authority, as in gsr:///<service>');
  }
  try {
    return validateService(target.path);
  } catch (error) {
    if (error instanceof ValidationError) {
      const reason = `service name ${JSON.stringify(target.path)}: ${error.reason}`;
      throw new ValidationError('gRPC target', text, reason);
    }
    throw error;
  }
}
