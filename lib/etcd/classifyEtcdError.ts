import { isBrokenCircuitError, TaskCancelledError } from 'cockatiel';
import {
  castGrpcError,
  ClientClosedError,
  ClientRuntimeError,
  EtcdAuthenticationFailedError,
  EtcdError,
  EtcdInvalidAuthTokenError,
  EtcdLeaseInvalidError,
  EtcdPermissionDeniedError,
  EtcdRoleNotGrantedError,
  EtcdUserNotFoundError,
  EtcdWatchStreamEnded,
  GRPCGenericError,
  GRPCInvalidArgumentError,
  GRPCUnauthenticatedError,
} from 'etcd3';
import { AuthenticationError } from '../errors/AuthenticationError';
import { PermissionDeniedError } from '../errors/PermissionDeniedError';
import { RegistryClosedError } from '../errors/RegistryClosedError';

/** What an etcd operation was doing, for the typed error. @internal */
export interface EtcdOperation {
  /** The key or prefix it touched. */
  readonly key: string;
  /** The user gsr authenticates as, if any. */
  readonly username: string | undefined;
  /** A short description, e.g. `watch gsr/services/web/`. */
  readonly description: string;
}

/**
 * Sorts an etcd failure into what retrying can fix and what it cannot.
 *
 * Returns `undefined` for a transient failure (unreachable member, leader change, timeout, broken stream,
 * lost lease), or the error a caller should see: a typed gsr error for authentication, permission and a
 * closed client, or the original error for anything else that is not an etcd failure (a bug).
 * @internal
 */
export function fatalError(raw: unknown, operation: EtcdOperation): Error | undefined {
  // Watch streams report grpc-js's untyped errors as they are; type them as requests' errors are.
  const error = raw instanceof Error ? castGrpcError(raw) : raw;
  if (error instanceof EtcdAuthenticationFailedError || error instanceof EtcdUserNotFoundError) {
    return new AuthenticationError(operation.username, error);
  }
  if (error instanceof GRPCUnauthenticatedError) {
    return new AuthenticationError(operation.username, error);
  }
  if (error instanceof EtcdPermissionDeniedError || error instanceof EtcdRoleNotGrantedError) {
    return new PermissionDeniedError(operation.key, error);
  }
  if (error instanceof ClientClosedError) {
    return new RegistryClosedError(operation.description);
  }
  if (error instanceof GRPCInvalidArgumentError) {
    return error;
  }
  const transient =
    error instanceof GRPCGenericError ||
    error instanceof EtcdError ||
    error instanceof EtcdInvalidAuthTokenError ||
    error instanceof EtcdLeaseInvalidError ||
    error instanceof EtcdWatchStreamEnded ||
    error instanceof ClientRuntimeError ||
    isBrokenCircuitError(error) ||
    error instanceof TaskCancelledError; // cockatiel 3.2.1's isTaskCancelledError is broken
  if (transient) {
    return undefined;
  }
  return error instanceof Error ? error : new Error(String(error));
}
