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
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
} from 'etcd3';
import { AuthenticationError } from '../errors/AuthenticationError';
import { EtcdRefusedError } from '../errors/EtcdRefusedError';
import { PermissionDeniedError } from '../errors/PermissionDeniedError';
import { RegistryClosedError } from '../errors/RegistryClosedError';

/** What an etcd operation was doing, for the typed error. @internal */
export interface EtcdOperation {
  /** The key or prefix it touched. */
  readonly key: string;
  /** A short description, e.g. `watch gsr/services/web/`. */
  readonly description: string;
}

/**
 * Sorts an etcd failure into what retrying can fix and what it cannot: the one place gsr decides.
 *
 * Returns `undefined` for a transient failure (unreachable member, leader change, timeout, broken stream,
 * lost lease, rate limiting), or the error a caller should see: a typed gsr error for authentication,
 * permission, a closed client and a request etcd refuses for good (too large, a TTL out of range), or
 * the original error for anything that is not an etcd failure (a bug, or a typed gsr error already).
 * @internal
 */
export function classifyEtcdError(
  raw: unknown,
  operation: EtcdOperation,
  username: string | undefined,
): Error | undefined {
  // Watch streams report grpc-js's untyped errors as they are; type them as requests' errors are.
  const error = raw instanceof Error ? castGrpcError(raw) : raw;
  if (
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof EtcdUserNotFoundError ||
    error instanceof GRPCUnauthenticatedError
  ) {
    return new AuthenticationError(username, error);
  }
  if (error instanceof EtcdPermissionDeniedError || error instanceof EtcdRoleNotGrantedError) {
    return new PermissionDeniedError(operation.description, operation.key, error);
  }
  if (error instanceof ClientClosedError) {
    return new RegistryClosedError(operation.description);
  }
  if (isRefusal(error)) {
    return new EtcdRefusedError(operation.description, operation.key, error);
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

/**
 * Requests etcd will refuse however often they are sent: invalid arguments (etcd's "request is too
 * large" among them), messages over gRPC's size limit, a lease TTL over etcd's maximum. etcd also uses
 * RESOURCE_EXHAUSTED for "too many requests" and OUT_OF_RANGE for compacted revisions: those pass.
 */
function isRefusal(error: unknown): boolean {
  if (error instanceof GRPCInvalidArgumentError) {
    return true;
  }
  if (error instanceof GRPCResourceExhastedError) {
    return !error.message.includes('too many requests');
  }
  return error instanceof GRPCOutOfRangeError && error.message.includes('too large lease TTL');
}
