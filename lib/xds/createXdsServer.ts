import { isIP } from 'node:net';
import {
  Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServiceDefinition,
  status,
} from '@grpc/grpc-js';
import { of } from 'rxjs';
import { messageOf } from '../errors/messageOf';
import { PreconditionError } from '../errors/PreconditionError';
import { ValidationError } from '../errors/ValidationError';
import { authorityAllowed, hostOf } from '../http/hostAllowed';
import { validateHosts } from '../http/validateHosts';
import { LogBudget } from '../logging/LogBudget';
import {
  DEFAULT_WRR,
  type WeightedRoundRobinOptions,
  type WrrPolicy,
} from '../balancing/LoadWeight';
import { type LocalityPolicy, localityPolicy } from '../locality/LocalityPolicy';
import { OnceLog } from '../logging/OnceLog';
import type { Registry } from '../registry/Registry';
import { escapeText } from '../text/escapeText';
import { type AdsCounters, type AdsRequest, type AdsResponse, AdsStream } from './AdsStream';
import { XdsCatalog } from './XdsCatalog';
import { type XdsProtos, xdsProtos } from './xdsProtos';

/** Options of {@link createXdsServer}. */
export interface XdsServerOptions {
  /** The port to listen on; 0 takes any free one (read it from `server.port`). @default 0 */
  readonly port?: number;
  /** The address to listen on; not loopback exposes it. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Serve these services only. Without it, a client may ask for any service by name, and a request for
   * every listener or cluster (Envoy's) gets every service in the registry (with etcd's naming layout,
   * which has no list of services, none).
   */
  readonly services?: readonly string[];
  /**
   * Names a client may give as its authority, besides loopback names and the address the server
   * listens on (any IP address when it listens on every interface): the dashboard's Host rule. An Envoy
   * gives its xDS cluster's name unless its `envoy_grpc.authority` says otherwise.
   * @default []
   */
  readonly allowedHosts?: readonly string[];
  /** How many streams may be open at once; a new one past it is refused `RESOURCE_EXHAUSTED`. @default 1000 */
  readonly maxStreams?: number;
  /** The most resource names one request may ask for; more ends its stream `RESOURCE_EXHAUSTED`. @default 10000 */
  readonly maxResourceNames?: number;
  /**
   * How calls spill over priorities and zones (Envoy's overprovisioning factor, panic threshold and
   * zone-aware minimum cluster size): the spread each client is sent is worked out with these, as a
   * gsr `Balancer` works out its own. @default `{ overprovisioningFactor: 1.4, panicThreshold: 50, minClusterSize: 6 }`
   */
  readonly locality?: Partial<LocalityPolicy>;
  /**
   * Services whose clients weigh endpoints by the load reports servers put on their answers (gRFC A58
   * client-side weighted round robin, within each locality), with A58's settings: the cluster says
   * so, and each locality holds a group of endpoints (a priority in a zone) for the client to weigh.
   * grpc-js-xds 1.14 takes it with `GRPC_EXPERIMENTAL_XDS_WRR_LB=true` in its environment.
   */
  readonly weightedRoundRobin?: WeightedRoundRobinOptions & {
    /** Which services: these names, or `'all'`. */
    readonly services: readonly string[] | 'all';
  };
  /**
   * A service's endpoints are sent at once when they change, then at most once per this many
   * milliseconds while they keep changing (a deploy, a compaction's resync).
   * @default 50
   */
  readonly coalesceMs?: number;
}

/** What an {@link XdsServer} has done since it started. */
export interface XdsStats {
  /** Streams open now. */
  readonly streams: number;
  /** Services whose endpoints are followed now, for every client together. */
  readonly services: number;
  /** Responses sent. */
  readonly responses: number;
  /** Responses clients accepted. */
  readonly acks: number;
  /** Responses clients rejected (each logged). */
  readonly nacks: number;
  /** Requests for a type URL gsr does not serve (answered with no resources). */
  readonly unknownTypes: number;
  /** Requests ignored for a stale nonce. */
  readonly stale: number;
  /** Streams refused or ended for what they asked (too many, a bad request, a wrong authority). */
  readonly refused: number;
}

/** A running xDS control plane. */
export interface XdsServer {
  /** The port it listens on. */
  readonly port: number;
  /** The address it listens on. */
  readonly host: string;
  /** What it has done, for a health check or a log line. */
  stats(): XdsStats;
  /** Ends every stream (their subscriptions released) and stops listening. */
  close(): Promise<void>;
}

const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
const MAX_REQUEST_BYTES = 1024 * 1024;
/** How many lines a minute what clients send wrong may cost the log, however many clients send it. */
const CLIENT_LINES_PER_MINUTE = 20;

/**
 * An xDS control plane (v3 Aggregated Discovery Service, state of the world) fed by the registry's live
 * streams, so that proxyless gRPC clients in any language (`xds:///<service>`) and Envoy (clusters of
 * type EDS) find gsr's endpoints. Per service it serves a listener (an API listener whose route comes
 * by RDS), a route, a cluster of type EDS and a `ClusterLoadAssignment`, all named after the service.
 * Each client's assignment holds the endpoints it should call now, each a locality of its own weighted
 * by its share of calls, worked out by the locality policy gsr's `Balancer` uses (priority load with
 * overprovisioning and panic, zone-aware routing from the client's `node.locality` and `node.cluster`,
 * endpoint weights): gRPC clients, which do none of it, spread calls as a `Balancer` would. Endpoints
 * must be registered as `IP:port`: xDS clients do not resolve names for endpoints, so others are left
 * out with a warning.
 *
 * - One assignment per service is made per change, however many clients follow it; a client is sent at
 *   most one response per round trip (the latest), NACKs are logged and counted and never resent.
 * - Each client costs what it subscribed to; streams, names per request and request size are bounded.
 * - Needs `@grpc/grpc-js-xds` installed, for Envoy's protos (an optional peer dependency).
 *
 * @throws {@link gsr!ValidationError} for an invalid option; {@link gsr!PreconditionError} for a port that
 * cannot be bound, or a missing `@grpc/grpc-js-xds`.
 * @example
 * ```ts
 * import { Registry } from 'gsr';
 * import { createXdsServer } from 'gsr/xds';
 *
 * const registry = await Registry.connect();
 * const xds = await createXdsServer(registry, { port: 18000 });
 * // clients: GRPC_XDS_BOOTSTRAP pointing at 127.0.0.1:18000, then dial xds:///greeter
 * process.on('SIGTERM', () => void xds.close().then(() => registry.close()));
 * ```
 */
export async function createXdsServer(
  registry: Registry,
  options: XdsServerOptions = {},
): Promise<XdsServer> {
  const fixed = options.services?.map((service) => registry.validateService(service, 'services'));
  const allowedHosts = validateHosts(options.allowedHosts);
  const host = options.host ?? '127.0.0.1';
  const bound = hostOf(isIP(host) === 6 ? `[${host}]` : host);
  if (bound === undefined) {
    throw new ValidationError(
      'host',
      host,
      'expected a host name or address (IPv6 without brackets)',
    );
  }
  const port = whole('port', options.port ?? 0, 0, 65535);
  const maxStreams = whole('maxStreams', options.maxStreams ?? 1000, 1);
  const maxResourceNames = whole('maxResourceNames', options.maxResourceNames ?? 10_000, 1);
  const coalesceMs = whole('coalesceMs', options.coalesceMs ?? 50, 0);
  const wrr = options.weightedRoundRobin;
  const wrrPolicy: WrrPolicy | undefined = wrr && {
    blackoutPeriodMs: whole(
      'weightedRoundRobin.blackoutPeriodMs',
      wrr.blackoutPeriodMs ?? DEFAULT_WRR.blackoutPeriodMs,
      0,
    ),
    weightExpirationPeriodMs: whole(
      'weightedRoundRobin.weightExpirationPeriodMs',
      wrr.weightExpirationPeriodMs ?? DEFAULT_WRR.weightExpirationPeriodMs,
      0,
    ),
    weightUpdatePeriodMs: whole(
      'weightedRoundRobin.weightUpdatePeriodMs',
      wrr.weightUpdatePeriodMs ?? DEFAULT_WRR.weightUpdatePeriodMs,
      100,
    ),
    errorUtilizationPenalty: DEFAULT_WRR.errorUtilizationPenalty,
  };
  const wrrServices =
    wrr === undefined || wrr.services === 'all'
      ? undefined
      : new Set(
          wrr.services.map((service) =>
            registry.validateService(service, 'weightedRoundRobin.services'),
          ),
        );
  const policy = localityPolicy(
    options.locality ?? {},
    'locality',
    (option, what, value) => new ValidationError(option, value, `expected ${what}`),
  );
  const protos = xdsProtos();
  const log = new OnceLog(registry.logger);
  // What clients send wrong (NACKs, unknown types) is said at most this often, whatever they send.
  const clientLog = new LogBudget(registry.logger, {
    lines: CLIENT_LINES_PER_MINUTE,
    windowMs: 60_000,
    now: Date.now,
  });
  const catalog = new XdsCatalog({
    registry,
    protos,
    names$:
      fixed === undefined
        ? registry.listsServices
          ? registry.services$()
          : of([])
        : of([...new Set(fixed)].sort()),
    fixed,
    coalesceMs,
    policy,
    wrrOf: (service) =>
      wrrPolicy !== undefined && (wrrServices === undefined || wrrServices.has(service))
        ? wrrPolicy
        : undefined,
    log,
  });
  const counters: AdsCounters = { responses: 0, acks: 0, nacks: 0, unknownTypes: 0, stale: 0 };
  let refused = 0;
  const streams = new Set<AdsStream>();
  const everyInterface = bound === '0.0.0.0' || bound === '::';
  const isLocalAddress = (name: string): boolean =>
    everyInterface ? isIP(name) !== 0 : name === bound;

  const server = new Server({
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
  });
  server.addService(adsDefinition(protos), {
    StreamAggregatedResources: (call: ServerDuplexStream<AdsRequest, AdsResponse>) => {
      const refuse = (code: status, message: string): void => {
        refused += 1;
        call.emit('error', { code, details: message });
      };
      if (!authorityAllowed(call.getHost(), allowedHosts, isLocalAddress)) {
        refuse(
          status.PERMISSION_DENIED,
          `this xDS server does not answer to authority "${escapeText(call.getHost(), 100)}"; add it to allowedHosts (--allow-host)`,
        );
        return;
      }
      if (streams.size >= maxStreams) {
        refuse(status.RESOURCE_EXHAUSTED, `${maxStreams} xDS streams are open already`);
        return;
      }
      const stream: AdsStream = new AdsStream({
        catalog,
        peer: {
          send: (response) => call.write(response),
          refuse: (code, message) => {
            streams.delete(stream);
            refuse(code, message);
          },
        },
        limits: { maxResourceNames, maxTypes: 16 },
        counters,
        log: clientLog,
      });
      streams.add(stream);
      const end = (): void => {
        streams.delete(stream);
        stream.close();
      };
      call.on('data', (request: AdsRequest) => {
        // Whatever a request holds, it ends at most its own stream, never the server's process.
        try {
          stream.receive(request);
        } catch (error) {
          streams.delete(stream);
          stream.close();
          refuse(status.INTERNAL, `this request could not be served: ${messageOf(error)}`);
        }
      });
      call.on('end', () => {
        end();
        call.end();
      });
      call.on('error', end);
      call.on('cancelled', end);
      call.on('close', end);
    },
  });
  const address = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, listening) =>
      error === null
        ? resolve(listening)
        : reject(
            messageOf(error).includes('EADDRINUSE')
              ? new PreconditionError(`listen on ${address}`, 'the port is taken', 'port')
              : new PreconditionError(`listen on ${address}`, messageOf(error), 'host'),
          ),
    ),
  );
  return {
    port: boundPort,
    host,
    stats: () => ({
      streams: streams.size,
      services: catalog.followed,
      ...counters,
      refused,
    }),
    close: async () => {
      streams.forEach((stream) => stream.close());
      streams.clear();
      await new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        server.forceShutdown(); // open streams never end by themselves
      });
    },
  };
}

/** The ADS service, with protobufjs' codecs: StreamAggregatedResources only (no incremental yet). */
function adsDefinition(protos: XdsProtos): ServiceDefinition {
  return {
    StreamAggregatedResources: {
      path: `/${ADS_SERVICE}/StreamAggregatedResources`,
      requestStream: true,
      responseStream: true,
      requestSerialize: (request: object) => Buffer.from(protos.request.encode(request).finish()),
      requestDeserialize: (bytes: Buffer) => protos.request.decode(bytes),
      responseSerialize: (response: object) =>
        Buffer.from(protos.response.encode(response).finish()),
      responseDeserialize: (bytes: Buffer) => protos.response.decode(bytes),
    },
  };
}

function whole(field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(field, value, `expected a whole number from ${min} to ${max}`);
  }
  return value;
}
