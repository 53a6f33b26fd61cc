import * as grpc from '@grpc/grpc-js';
import { xdsProtos } from '../../lib/xds/xdsProtos';

/** A `DiscoveryResponse` as a test reads it: each resource decoded to a plain object. */
export interface DecodedResponse {
  readonly version_info: string;
  readonly type_url: string;
  readonly nonce: string;
  readonly resources: Record<string, unknown>[];
}

/** One raw ADS stream to gsr's xDS server: what a test sends and what came back, as it comes. */
export interface AdsTestStream {
  /** Sends a `DiscoveryRequest` (fields as in the proto); raw bytes are sent as they are. */
  send(request: Record<string, unknown> | Buffer): void;
  /** The responses received so far, in order. */
  readonly responses: DecodedResponse[];
  /** The next response not taken yet, waiting for it up to `timeoutMs`. */
  next(timeoutMs?: number): Promise<DecodedResponse>;
  /** How the stream ended. */
  readonly ended: Promise<{ code: number; details: string }>;
  close(): void;
}

export const TYPE = {
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

const CONVERSION = { enums: String, longs: Number } as const;

/** Decodes a resource (or an `Any` inside one) by its type URL. */
export function decodeAny(typeUrl: string, value: Uint8Array): Record<string, unknown> {
  const type = xdsProtos().response.root.lookupType(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
  return type.toObject(type.decode(value), CONVERSION);
}

/** Opens an ADS stream to `127.0.0.1:<port>`, as `authority` when given. */
export function openAds(port: number, authority?: string): AdsTestStream {
  const protos = xdsProtos();
  const client = new grpc.Client(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
    authority === undefined ? {} : { 'grpc.default_authority': authority },
  );
  const call = client.makeBidiStreamRequest(
    '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources',
    (request: Record<string, unknown> | Buffer) =>
      Buffer.isBuffer(request)
        ? request
        : Buffer.from(protos.request.encode(protos.request.fromObject(request)).finish()),
    (bytes: Buffer) => {
      const message = protos.response.toObject(protos.response.decode(bytes), CONVERSION) as {
        version_info: string;
        type_url: string;
        nonce: string;
        resources?: { type_url: string; value: Uint8Array }[];
      };
      return {
        version_info: message.version_info,
        type_url: message.type_url,
        nonce: message.nonce,
        resources: (message.resources ?? []).map((any) => decodeAny(any.type_url, any.value)),
      };
    },
  );
  const responses: DecodedResponse[] = [];
  const waiting: (() => void)[] = [];
  let taken = 0;
  call.on('data', (response: DecodedResponse) => {
    responses.push(response);
    waiting.splice(0).forEach((wake) => wake());
  });
  const ended = new Promise<{ code: number; details: string }>((resolve) => {
    call.on('status', (status: grpc.StatusObject) => {
      resolve({ code: status.code, details: status.details });
      client.close();
    });
  });
  call.on('error', () => undefined); // the status says it
  return {
    send: (request) => call.write(request),
    responses,
    next: async (timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (responses.length <= taken) {
        if (Date.now() > deadline) {
          throw new Error(`no response ${taken + 1} within ${timeoutMs}ms`);
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          waiting.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      taken += 1;
      return responses[taken - 1] as DecodedResponse;
    },
    ended,
    close: () => {
      call.cancel();
      client.close();
    },
  };
}
