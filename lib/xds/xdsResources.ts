import { isIP } from 'node:net';
import type { Endpoint } from '../endpoint/Endpoint';
import { declaredWeight } from '../endpoint/declaredWeight';
import { endpointState, type EndpointState } from '../endpoint/EndpointState';
import { addressProblem } from '../endpoint/validateEndpoint';
import { escapeText } from '../text/escapeText';
import { type ResourceKind, TYPE_URLS, type XdsProtos } from './xdsProtos';

/** One resource, encoded once, as a `google.protobuf.Any` of a response. */
export interface EncodedResource {
  readonly name: string;
  readonly type_url: string;
  readonly value: Uint8Array;
}

/** Where a cluster's assignment comes from: the same ADS stream, v3. */
const ADS = { ads: {}, resource_api_version: 'V3' };

/**
 * What each state becomes in a `ClusterLoadAssignment`: Envoy and gRPC send new calls to `HEALTHY`
 * endpoints; Envoy falls back on `UNHEALTHY` ones in panic (as gsr falls back on failing ones);
 * `DRAINING` ones get none. An endpoint in maintenance is left out, so that no panic routing reaches it.
 */
const HEALTH: Readonly<Record<EndpointState, string | undefined>> = {
  serving: 'HEALTHY',
  draining: 'DRAINING',
  failing: 'UNHEALTHY',
  maintenance: undefined,
  // Kept as the last resort: what Envoy routes to only in panic, as gsr does.
  lost: 'UNHEALTHY',
};

/** gsr's weights are relative numbers (0.5, 1, 3); xDS's are whole: times this, rounded. */
const WEIGHT_SCALE = 100;
/** The largest endpoint weight sent: a locality's sum of 10,000 of them stays under 2^32. */
const MAX_ENDPOINT_WEIGHT = 10_000;

/**
 * The static resources of a service: a listener for proxyless gRPC clients dialing `xds:///<service>`
 * (an API listener whose route comes by RDS), its route (every call to the service's cluster) and the
 * cluster (type EDS, its endpoints from this stream), each named after the service.
 * @internal
 */
export function staticResource(
  protos: XdsProtos,
  kind: Exclude<ResourceKind, 'endpoints'>,
  service: string,
): EncodedResource {
  switch (kind) {
    case 'listener':
      return encode(protos, 'listener', service, {
        name: service,
        api_listener: {
          api_listener: any(protos, 'httpConnectionManager', {
            rds: { config_source: ADS, route_config_name: service },
            http_filters: [
              { name: 'envoy.filters.http.router', typed_config: any(protos, 'router', {}) },
            ],
          }),
        },
      });
    case 'route':
      return encode(protos, 'route', service, {
        name: service,
        virtual_hosts: [
          {
            name: service,
            domains: ['*'],
            routes: [{ match: { prefix: '' }, route: { cluster: service } }],
          },
        ],
      });
    case 'cluster':
      return encode(protos, 'cluster', service, {
        name: service,
        type: 'EDS',
        eds_cluster_config: { eds_config: ADS, service_name: service },
        lb_policy: 'ROUND_ROBIN',
        connect_timeout: { seconds: 5 },
      });
  }
}

/**
 * A service's endpoints as a `ClusterLoadAssignment`: one locality per `metadata.region`/`zone`
 * (endpoints without them share one), each endpoint's `weight` times {@link WEIGHT_SCALE} as its
 * `load_balancing_weight` and a locality's sum as its own, states as health statuses.
 *
 * Clients refuse a whole assignment for one bad endpoint, so what others wrote that they cannot dial is
 * left out, each with one call of `warn`: an address that is not `IP:port` (xDS has no DNS for
 * endpoints), or the same address twice.
 * @internal
 */
export function loadAssignment(
  protos: XdsProtos,
  service: string,
  list: readonly Endpoint[],
  warn: (message: string) => void,
): EncodedResource {
  const localities = new Map<
    string,
    { locality: Record<string, string>; lb_endpoints: unknown[] }
  >();
  const weights = new Map<string, number>();
  const seen = new Set<string>();
  for (const endpoint of list) {
    const health = HEALTH[endpointState(endpoint)];
    const socket = socketAddress(endpoint.address);
    if (socket === undefined) {
      warn(
        `xDS leaves out endpoint "${escapeText(endpoint.address, 80)}" of service "${escapeText(service, 80)}": ` +
          'not IP:port (xDS clients do not resolve names for endpoints)',
      );
      continue;
    }
    const key = `${socket.address}|${socket.port_value}`;
    if (health === undefined || seen.has(key)) {
      continue;
    }
    seen.add(key);
    const locality = localityOf(endpoint);
    const id = JSON.stringify(locality);
    const weight = Math.min(
      MAX_ENDPOINT_WEIGHT,
      Math.max(1, Math.round((declaredWeight(endpoint) ?? 1) * WEIGHT_SCALE)),
    );
    let entry = localities.get(id);
    if (entry === undefined) {
      entry = { locality, lb_endpoints: [] };
      localities.set(id, entry);
    }
    entry.lb_endpoints.push({
      endpoint: { address: { socket_address: socket } },
      health_status: health,
      load_balancing_weight: { value: weight },
    });
    weights.set(id, (weights.get(id) ?? 0) + weight);
  }
  return encode(protos, 'endpoints', service, {
    cluster_name: service,
    endpoints: [...localities].map(([id, { locality, lb_endpoints }]) => ({
      locality,
      lb_endpoints,
      load_balancing_weight: { value: weights.get(id) },
    })),
  });
}

/** `IP:port` as a socket address, or `undefined` for anything else. */
function socketAddress(address: string): { address: string; port_value: number } | undefined {
  if (addressProblem(address) !== undefined) {
    return undefined;
  }
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return isIP(host) === 0
    ? undefined
    : { address: host, port_value: Number(address.slice(colon + 1)) };
}

/** The longest locality name sent: metadata may hold a 64 KiB string. */
const MAX_LOCALITY_CHARS = 256;

function localityOf(endpoint: Endpoint): Record<string, string> {
  const { region, zone } = endpoint.metadata ?? {};
  return {
    ...(typeof region === 'string' && { region: localityName(region) }),
    ...(typeof zone === 'string' && { zone: localityName(zone) }),
  };
}

/** Well-formed (a lone surrogate has no UTF-8: a client would refuse the message) and bounded. */
function localityName(name: string): string {
  return name.slice(0, MAX_LOCALITY_CHARS).toWellFormed();
}

function any(protos: XdsProtos, type: keyof XdsProtos, message: object): object {
  const messageType = protos[type];
  return {
    type_url: `type.googleapis.com/${messageType.fullName.slice(1)}`,
    value: messageType.encode(messageType.fromObject(message)).finish(),
  };
}

function encode(
  protos: XdsProtos,
  kind: ResourceKind,
  name: string,
  message: object,
): EncodedResource {
  const type = protos[kind];
  return { name, type_url: TYPE_URLS[kind], value: type.encode(type.fromObject(message)).finish() };
}

/** Whether two encodings are the same resource, byte for byte. @internal */
export function sameResource(a: EncodedResource, b: EncodedResource): boolean {
  return a === b || (a.type_url === b.type_url && Buffer.compare(a.value, b.value) === 0);
}
