import * as grpcJs from '@grpc/grpc-js';
import { ValidationError } from '../errors/ValidationError';
import type { Registry } from '../registry/Registry';
import { gsrResolver } from './GsrResolver';

/** Options of {@link installGrpcResolver}. */
export interface GrpcResolverOptions {
  /**
   * The `@grpc/grpc-js` module your clients are made with. Resolvers are registered per copy of the
   * module, so pass yours when your application might load a different copy than gsr would.
   * @default require('@grpc/grpc-js')
   */
  readonly grpc?: typeof grpcJs;
  /**
   * The URI scheme of the targets to resolve.
   * @default 'gsr'
   */
  readonly scheme?: string;
}

/** What {@link installGrpcResolver} installed. */
export interface GrpcResolver {
  /** The scheme targets must use. */
  readonly scheme: string;
  /**
   * The gRPC target of a service: `gsr:///<service>`.
   * @throws {@link gsr!ValidationError} for an invalid service name.
   */
  readonly target: (service: string) => string;
}

// RFC 3986: a letter, then letters, digits, "+", "-" or ".".
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/**
 * Lets `@grpc/grpc-js` clients reach a gsr service by name: a channel on `gsr:///<service>` follows
 * `registry.endpoints$(service)`, so that it connects to every live endpoint and drops the ones that
 * go, with no restart. Use a balancing policy that spreads calls, such as `round_robin` (grpc-js's
 * default, `pick_first`, sticks to one endpoint).
 *
 * - Each channel holds a subscription to the service's shared list while grpc-js keeps its resolver,
 *   and releases it when the client is closed (or the channel goes idle).
 * - While the list is empty, calls fail with `UNAVAILABLE` naming the service (or wait, with
 *   `waitForReady`). Addresses that are not `host:port` are skipped with a warning in the registry's log.
 * - Should the list error or the registry be closed, a channel keeps the endpoints it had, as gRPC does on
 *   any resolver error; a new channel fails its calls with `UNAVAILABLE`.
 * - Installing again for the same scheme replaces the resolver (the latest registry wins). It uses
 *   grpc-js's `experimental.registerResolver`, whose listener API this needs from grpc-js 1.14.
 *
 * @returns The scheme, and a helper that builds targets.
 * @throws {@link gsr!ValidationError} for a scheme that is not a URI scheme.
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { Registry } from 'gsr';
 * import { installGrpcResolver } from 'gsr/grpc';
 *
 * const registry = await Registry.connect();
 * const resolver = installGrpcResolver(registry, { grpc });
 * const client = new GreeterClient(resolver.target('greeter'), grpc.credentials.createInsecure(), {
 *   'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
 * });
 * ```
 */
export function installGrpcResolver(
  registry: Registry,
  options: GrpcResolverOptions = {},
): GrpcResolver {
  const { grpc = grpcJs, scheme = 'gsr' } = options;
  if (typeof scheme !== 'string' || !SCHEME.test(scheme)) {
    throw new ValidationError('scheme', scheme, 'expected a URI scheme such as "gsr"');
  }
  grpc.experimental.registerResolver(scheme, gsrResolver(registry, grpc));
  return {
    scheme,
    target: (service) => `${scheme}:///${registry.validateService(service)}`,
  };
}
