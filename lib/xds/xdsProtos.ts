import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { Root, type Type } from 'protobufjs';
import { PreconditionError } from '../errors/PreconditionError';

/** The type URLs of the resources gsr serves, one per xDS API. */
export const TYPE_URLS = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

/** The kinds of resource gsr serves. */
export type ResourceKind = keyof typeof TYPE_URLS;

/** The messages gsr reads and writes. */
export interface XdsProtos {
  readonly request: Type;
  readonly response: Type;
  readonly listener: Type;
  readonly route: Type;
  readonly cluster: Type;
  readonly endpoints: Type;
  readonly httpConnectionManager: Type;
  readonly router: Type;
  readonly wrrLocality: Type;
  readonly clientSideWeightedRoundRobin: Type;
}

/** The package whose copies of Envoy's, xds' and Google's protos gsr loads. */
const PROTOS_PACKAGE = '@grpc/grpc-js-xds';

let loaded: XdsProtos | undefined;

/**
 * Envoy's xDS v3 messages, loaded once from the protos `@grpc/grpc-js-xds` ships (Envoy's own, not
 * copies of ours), with protobufjs. The package is an optional peer dependency: only `gsr/xds` needs it.
 * @throws {@link PreconditionError} naming the package when it is not installed.
 * @internal
 */
export function xdsProtos(): XdsProtos {
  loaded ??= load();
  return loaded;
}

function load(): XdsProtos {
  let base: string;
  try {
    base = dirname(require.resolve(`${PROTOS_PACKAGE}/package.json`));
  } catch {
    throw new PreconditionError(
      'load gsr/xds',
      `it needs the package ${PROTOS_PACKAGE} for Envoy's protos: npm install ${PROTOS_PACKAGE}`,
    );
  }
  const includes = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) =>
    join(base, 'deps', dir),
  );
  // google/protobuf/descriptor.proto, which the protos' options import, ships with protobufjs.
  includes.push(dirname(dirname(dirname(require.resolve('protobufjs/google/protobuf/api.proto')))));
  const root = new Root();
  root.resolvePath = (_origin, target) =>
    isAbsolute(target)
      ? target
      : (includes.map((dir) => join(dir, target)).find((path) => existsSync(path)) ?? target);
  root.loadSync(
    [
      'envoy/service/discovery/v3/ads.proto',
      'envoy/config/listener/v3/listener.proto',
      'envoy/config/route/v3/route.proto',
      'envoy/config/cluster/v3/cluster.proto',
      'envoy/config/endpoint/v3/endpoint.proto',
      'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
      'envoy/extensions/filters/http/router/v3/router.proto',
      'envoy/extensions/load_balancing_policies/wrr_locality/v3/wrr_locality.proto',
      'envoy/extensions/load_balancing_policies/client_side_weighted_round_robin/v3/client_side_weighted_round_robin.proto',
    ],
    { keepCase: true },
  );
  root.resolveAll();
  const type = (name: string): Type => root.lookupType(name);
  return {
    request: type('envoy.service.discovery.v3.DiscoveryRequest'),
    response: type('envoy.service.discovery.v3.DiscoveryResponse'),
    listener: type('envoy.config.listener.v3.Listener'),
    route: type('envoy.config.route.v3.RouteConfiguration'),
    cluster: type('envoy.config.cluster.v3.Cluster'),
    endpoints: type('envoy.config.endpoint.v3.ClusterLoadAssignment'),
    httpConnectionManager: type(
      'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    ),
    router: type('envoy.extensions.filters.http.router.v3.Router'),
    wrrLocality: type('envoy.extensions.load_balancing_policies.wrr_locality.v3.WrrLocality'),
    clientSideWeightedRoundRobin: type(
      'envoy.extensions.load_balancing_policies.client_side_weighted_round_robin.v3.ClientSideWeightedRoundRobin',
    ),
  };
}
