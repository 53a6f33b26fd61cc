import type { experimental } from '@grpc/grpc-js';
import type { Endpoint } from '../endpoint/Endpoint';

/** grpc-js's own `host:port` parser (`experimental.splitHostPort`), which knows `[v6]:port`. */
type SplitHostPort = typeof experimental.splitHostPort;

/** What a gsr endpoint list becomes for grpc-js. */
export interface GrpcEndpoints {
  /** One grpc-js endpoint per usable address, in the list's order. */
  readonly endpoints: experimental.Endpoint[];
  /** The addresses behind `endpoints`, as registered. */
  readonly usable: readonly string[];
  /** Addresses that are not `host:port` with a port in 1..65535: gRPC cannot dial them. */
  readonly unusable: readonly string[];
}

/**
 * Turns a service's endpoint list into grpc-js endpoints, one address each. Metadata plays no part:
 * gRPC only needs where to connect.
 *
 * @internal
 */
export function toGrpcEndpoints(
  list: readonly Endpoint[],
  splitHostPort: SplitHostPort,
): GrpcEndpoints {
  const endpoints: experimental.Endpoint[] = [];
  const usable: string[] = [];
  const unusable: string[] = [];
  for (const { address } of list) {
    const hostPort = splitHostPort(address);
    const port = hostPort?.port;
    if (
      hostPort === null ||
      hostPort.host === '' ||
      port === undefined ||
      port < 1 ||
      port > 65535
    ) {
      unusable.push(address);
    } else {
      endpoints.push({ addresses: [{ host: hostPort.host, port }] });
      usable.push(address);
    }
  }
  return { endpoints, usable, unusable };
}
