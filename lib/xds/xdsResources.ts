import { isIP } from 'node:net';
import type { Endpoint } from '../endpoint/Endpoint';
import { declaredWeight } from '../endpoint/declaredWeight';
import { endpointState, type EndpointState } from '../endpoint/EndpointState';
import {
  type EndpointLocality,
  endpointLocality,
  type Locality,
  servingByZone,
} from '../locality/Locality';
import { DEFAULT_LOCALITY_POLICY, type LocalityPolicy } from '../locality/LocalityPolicy';
import { type LocalityGroup, localityPlan } from '../locality/localityPlan';
import { priorityOf } from '../locality/priorityOf';
import type { WrrPolicy } from '../balancing/LoadWeight';
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
  wrr?: WrrPolicy,
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
        // Envoy weighs localities only when told to; gRPC clients always do.
        common_lb_config: { locality_weighted_lb_config: {} },
        connect_timeout: { seconds: 5 },
        ...(wrr !== undefined && { load_balancing_policy: weightedRoundRobin(protos, wrr) }),
      });
  }
}

/**
 * Client-side weighted round robin (gRFC A58) within each locality, as gRPC's xDS clients take it:
 * `wrr_locality` picks a locality by weight, and its endpoints are weighed by their load reports.
 */
function weightedRoundRobin(protos: XdsProtos, wrr: WrrPolicy): object {
  const seconds = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
  return {
    policies: [
      {
        typed_extension_config: {
          name: 'envoy.load_balancing_policies.wrr_locality',
          typed_config: any(protos, 'wrrLocality', {
            endpoint_picking_policy: {
              policies: [
                {
                  typed_extension_config: {
                    name: 'envoy.load_balancing_policies.client_side_weighted_round_robin',
                    typed_config: any(protos, 'clientSideWeightedRoundRobin', {
                      blackout_period: seconds(wrr.blackoutPeriodMs),
                      weight_expiration_period: seconds(wrr.weightExpirationPeriodMs),
                      weight_update_period: seconds(wrr.weightUpdatePeriodMs),
                      error_utilization_penalty: { value: wrr.errorUtilizationPenalty },
                    }),
                  },
                },
              ],
            },
          }),
        },
      },
    ],
  };
}

/** Who an assignment is made for: where the client is, and its own service's list when it named one. */
export interface AssignmentView {
  /**
   * Whether the service's clients weigh endpoints themselves (weighted round robin): then each
   * locality holds a group's endpoints (a priority in a zone), weighted by the group's share.
   */
  readonly weighsEndpoints?: boolean;
  readonly caller: Locality;
  /** The client's own service's live list (its `node.cluster`), for zone-aware routing. */
  readonly callers: readonly Endpoint[] | undefined;
  /** Whether the client named its own service: zones of its region then share priority 0. */
  readonly zoneAware: boolean;
  readonly policy: LocalityPolicy;
}

/** A client that says nothing of itself: every endpoint priority 0 unless its metadata says. */
export const PLAIN_VIEW: AssignmentView = Object.freeze({
  caller: {},
  callers: undefined,
  zoneAware: false,
  policy: DEFAULT_LOCALITY_POLICY,
});

/** The sum of the locality weights of an assignment: shares become whole weights of this. */
const TOTAL_LOCALITY_WEIGHT = 1_000_000;

/** An endpoint a client may dial, as read for the policy. */
interface Dialable {
  readonly endpoint: Endpoint;
  readonly socket: { address: string; port_value: number };
  readonly state: EndpointState;
  readonly locality: EndpointLocality;
  readonly weight: number;
}

/**
 * A service's endpoints as a `ClusterLoadAssignment` for one client, with the spread already worked
 * out by the locality policy that gsr's `Balancer` uses ({@link localityPlan}): gRPC clients do no
 * overprovisioning and no panic (gRFC A27 leaves graceful failover to the control plane), and weigh
 * neither endpoints in round-robin, so the assignment holds exactly the endpoints this client should
 * call now, each as a locality of its own (`sub_zone` its address) whose weight is its share of calls.
 * A gRPC client's weighted target then spreads calls as a gsr `Balancer` in its place would: priority
 * load over levels, zone-aware routing, endpoint weights. While no endpoint serves, the draining ones
 * are sent (else the failing, else the lost), as a `Balancer` falls back on them. Endpoints called for
 * want of better are `UNKNOWN`, serving ones `HEALTHY`.
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
  view: AssignmentView = PLAIN_VIEW,
): EncodedResource {
  const dialable = dialableOf(service, list, warn);
  const spreadOut = spread(dialable, view);
  if (view.weighsEndpoints === true) {
    return encode(protos, 'endpoints', service, {
      cluster_name: service,
      endpoints: byGroup(spreadOut, view),
    });
  }
  return encode(protos, 'endpoints', service, {
    cluster_name: service,
    endpoints: spreadOut.map(({ one, share }) => ({
      locality: {
        ...(one.locality.region !== undefined && { region: one.locality.region }),
        ...(one.locality.zone !== undefined && { zone: one.locality.zone }),
        sub_zone: one.endpoint.address,
      },
      lb_endpoints: [
        {
          endpoint: { address: { socket_address: one.socket } },
          health_status: one.state === 'serving' ? 'HEALTHY' : 'UNKNOWN',
          load_balancing_weight: { value: Math.round(one.weight * WEIGHT_SCALE) },
        },
      ],
      load_balancing_weight: {
        value: Math.max(1, Math.round(share * TOTAL_LOCALITY_WEIGHT)),
      },
    })),
  });
}

/**
 * For clients that weigh endpoints themselves: a locality per group (its zone and region, `sub_zone`
 * its priority), weighted by the group's share, its endpoints inside for the client to weigh.
 */
function byGroup(
  spreadOut: readonly { readonly one: Dialable; readonly share: number }[],
  view: AssignmentView,
): object[] {
  const groups = new Map<string, { locality: object; lb_endpoints: object[]; share: number }>();
  for (const { one, share } of spreadOut) {
    const priority = priorityOf(one.locality, view.caller, view.zoneAware);
    const key = JSON.stringify([one.locality.region, one.locality.zone, priority]);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        locality: {
          ...(one.locality.region !== undefined && { region: one.locality.region }),
          ...(one.locality.zone !== undefined && { zone: one.locality.zone }),
          sub_zone: `priority-${priority}`,
        },
        lb_endpoints: [],
        share: 0,
      };
      groups.set(key, group);
    }
    group.share += share;
    group.lb_endpoints.push({
      endpoint: { address: { socket_address: one.socket } },
      health_status: one.state === 'serving' ? 'HEALTHY' : 'UNKNOWN',
      load_balancing_weight: { value: Math.round(one.weight * WEIGHT_SCALE) },
    });
  }
  return [...groups.values()].map(({ locality, lb_endpoints, share }) => ({
    locality,
    lb_endpoints,
    load_balancing_weight: { value: Math.max(1, Math.round(share * TOTAL_LOCALITY_WEIGHT)) },
  }));
}

/** The endpoints of `list` a client may dial (not in maintenance), once each, in list order. */
function dialableOf(
  service: string,
  list: readonly Endpoint[],
  warn: (message: string) => void,
): Dialable[] {
  const seen = new Set<string>();
  const dialable: Dialable[] = [];
  for (const endpoint of list) {
    const state = endpointState(endpoint);
    const socket = socketAddress(endpoint.address);
    if (socket === undefined) {
      warn(
        `xDS leaves out endpoint "${escapeText(endpoint.address, 80)}" of service "${escapeText(service, 80)}": ` +
          'not IP:port (xDS clients do not resolve names for endpoints)',
      );
      continue;
    }
    const key = `${socket.address}|${socket.port_value}`;
    if (state === 'maintenance' || seen.has(key)) {
      continue;
    }
    seen.add(key);
    const locality = endpointLocality(endpoint);
    if (locality.problem !== undefined) {
      warn(
        `xDS reads endpoint "${escapeText(endpoint.address, 80)}" of service "${escapeText(service, 80)}" as naming no locality: ${locality.problem}`,
      );
    }
    const weight = Math.min(MAX_ENDPOINT_WEIGHT, Math.max(0.01, declaredWeight(endpoint) ?? 1));
    dialable.push({ endpoint, socket, state, locality, weight });
  }
  return dialable;
}

/** Each endpoint the client should call, and its share of calls. */
function spread(
  dialable: readonly Dialable[],
  view: AssignmentView,
): { readonly one: Dialable; readonly share: number }[] {
  if (!dialable.some(({ state }) => state === 'serving')) {
    // As a Balancer falls back: the draining ones, else the failing ones, else the lost ones.
    for (const state of ['draining', 'failing', 'lost'] as const) {
      const members = dialable.filter((one) => one.state === state);
      if (members.length > 0) {
        return byWeight(members, 1);
      }
    }
    return [];
  }
  const groups = new Map<
    string,
    { priority: number; zone: string; healthy: Dialable[]; all: Dialable[] }
  >();
  for (const one of dialable) {
    if (one.state === 'draining') {
      continue;
    }
    const priority = priorityOf(one.locality, view.caller, view.zoneAware);
    const zone = one.locality.zone ?? '';
    const key = `${priority}|${zone}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { priority, zone, healthy: [], all: [] };
      groups.set(key, group);
    }
    group.all.push(one);
    if (one.state === 'serving') {
      group.healthy.push(one);
    }
  }
  const listed = [...groups.values()];
  const sum = (members: readonly Dialable[]): number =>
    members.reduce((total, { weight }) => total + weight, 0);
  const plan = localityPlan(
    listed.map((group): LocalityGroup => ({
      priority: group.priority,
      zone: group.zone,
      healthy: group.healthy.length,
      total: group.all.length,
      healthyWeight: sum(group.healthy),
      totalWeight: sum(group.all),
    })),
    { zone: view.caller.zone, callers: view.callers && servingByZone(view.callers) },
    view.policy,
  );
  return listed.flatMap((group, at) => {
    const { share = 0, panic = false } = plan.shares[at] ?? {};
    return share > 0 ? byWeight(panic ? group.all : group.healthy, share) : [];
  });
}

/** `share` over `members` by their weights. */
function byWeight(
  members: readonly Dialable[],
  share: number,
): { readonly one: Dialable; readonly share: number }[] {
  const total = members.reduce((sum, { weight }) => sum + weight, 0);
  return members.map((one) => ({ one, share: (share * one.weight) / total }));
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
