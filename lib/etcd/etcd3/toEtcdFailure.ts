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
  GRPCDeadlineExceededError,
  GRPCGenericError,
  GRPCInvalidArgumentError,
  GRPCOutOfRangeError,
  GRPCResourceExhastedError,
  GRPCUnauthenticatedError,
} from 'etcd3';
import { messageOf } from '../../errors/messageOf';
import { EtcdFailure, type EtcdFailureKind } from '../EtcdFailure';

/**
 * What an error of etcd3 (or of grpc-js underneath it: watch and keepalive streams report its untyped
 * errors) means, as one of the {@link EtcdFailure} kinds; anything that is not an etcd failure (a bug)
 * is returned as it is.
 * @internal
 */
export function toEtcdFailure(raw: unknown): unknown {
  if (raw instanceof EtcdFailure) {
    return raw;
  }
  const error = raw instanceof Error ? castGrpcError(raw) : raw;
  const kind = kindOf(error);
  return kind === undefined ? error : new EtcdFailure(kind, clientMessage(error), { cause: error });
}

/**
 * What the client said, without grpc-js's empty trailing `Resolution note:` (it names no resolution),
 * and with what grpc-js's words for a server that is no etcd mean.
 */
function clientMessage(error: unknown): string {
  const message = messageOf(error).replace(/\s*Resolution note:\s*$/, '');
  const status = /Received HTTP status code (\d+)/.exec(message)?.[1];
  if (status !== undefined) {
    return `${message} (the server answered HTTP ${status}, not gRPC: is it etcd's client URL?)`;
  }
  return /\bProtocol error\b/.test(message)
    ? `${message} (the server does not speak HTTP/2: is it etcd's client URL?)`
    : message;
}

function kindOf(error: unknown): EtcdFailureKind | undefined {
  if (
    error instanceof EtcdAuthenticationFailedError ||
    error instanceof EtcdUserNotFoundError ||
    error instanceof GRPCUnauthenticatedError ||
    // etcd with authentication on, asked without credentials.
    (error instanceof Error && error.message.includes('etcdserver: user name is empty'))
  ) {
    return 'unauthenticated';
  }
  if (error instanceof EtcdPermissionDeniedError || error instanceof EtcdRoleNotGrantedError) {
    return 'permission-denied';
  }
  if (error instanceof ClientClosedError) {
    return 'closed';
  }
  if (error instanceof EtcdLeaseInvalidError) {
    return 'lease-not-found';
  }
  if (error instanceof EtcdInvalidAuthTokenError) {
    return 'auth-expired';
  }
  if (error instanceof GRPCResourceExhastedError && error.message.includes('space exceeded')) {
    return 'no-space'; // Before refusals: it passes once an operator frees space.
  }
  if (isRefusal(error)) {
    return 'invalid';
  }
  if (error instanceof GRPCDeadlineExceededError) {
    return 'late';
  }
  if (
    error instanceof GRPCGenericError ||
    error instanceof EtcdError ||
    error instanceof EtcdWatchStreamEnded ||
    error instanceof ClientRuntimeError ||
    isBrokenCircuitError(error) ||
    error instanceof TaskCancelledError // cockatiel 3.2.1's isTaskCancelledError is broken
  ) {
    return 'unavailable';
  }
  return undefined;
}

/**
 * Requests etcd will refuse however often they are sent: invalid arguments (etcd's "request is too
 * large" among them), messages over gRPC's size limit, a lease TTL over etcd's maximum. etcd also uses
 * RESOURCE_EXHAUSTED for "too many requests" and OUT_OF_RANGE for compacted revisions: those pass. So
 * does grpc-js's RESOURCE_EXHAUSTED for a connection the server closed with ENHANCE_YOUR_CALM ("Bandwidth
 * exhausted"): etcd 3.4's grpc-proxy closes one that pings more often than every 5 minutes, and grpc-js
 * then pings half as often on the next.
 */
function isRefusal(error: unknown): boolean {
  if (error instanceof GRPCInvalidArgumentError) {
    return true;
  }
  if (error instanceof GRPCResourceExhastedError) {
    return !/too many requests|Bandwidth exhausted/.test(error.message);
  }
  return error instanceof GRPCOutOfRangeError && error.message.includes('too large lease TTL');
}
