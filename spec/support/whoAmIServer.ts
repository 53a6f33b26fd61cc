import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';

// A one-method gRPC service without .proto files: JSON in, JSON out. Each server answers with its
// name (its address unless named), so a test can tell where a call went.
const WHO_AM_I = '/gsr.test.Echo/WhoAmI';
const toJson = (value: unknown) => Buffer.from(JSON.stringify(value));
const fromJson = (buffer: Buffer) => JSON.parse(buffer.toString()) as { name: string };
const definition: grpc.ServiceDefinition = {
  WhoAmI: {
    path: WHO_AM_I,
    requestStream: false,
    responseStream: false,
    requestSerialize: toJson,
    requestDeserialize: fromJson,
    responseSerialize: toJson,
    responseDeserialize: fromJson,
  },
};

/** A running WhoAmI server on 127.0.0.1. */
export interface WhoAmIServer {
  /** What it answers. */
  readonly name: string;
  /** Where it listens, `127.0.0.1:<port>`. */
  readonly address: string;
  /** How many calls reached it. */
  served: number;
  /** While true, it answers every call with INTERNAL. */
  failing: boolean;
  /** A load report (ORCA's bytes) it puts on every answer's trailer, as `endpoint-load-metrics-bin`. */
  report: Uint8Array | undefined;
  /** Stops at once, dropping its connections: a crash as its clients see it. */
  kill(): void;
  /** Stops gracefully. */
  close(): Promise<void>;
}

/** Starts a WhoAmI server on a free loopback port. */
export async function startWhoAmIServer(name?: string): Promise<WhoAmIServer> {
  const server = new grpc.Server();
  const bind = promisify(server.bindAsync.bind(server));
  const port = await bind('127.0.0.1:0', grpc.ServerCredentials.createInsecure());
  const address = `127.0.0.1:${port}`;
  const state: WhoAmIServer = {
    name: name ?? address,
    address,
    served: 0,
    failing: false,
    report: undefined,
    kill: () => server.forceShutdown(),
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
  server.addService(definition, {
    WhoAmI: (_call: unknown, callback: grpc.sendUnaryData<{ name: string }>) => {
      state.served += 1;
      if (state.failing) {
        callback({ code: grpc.status.INTERNAL, details: `${state.name} is broken` });
      } else if (state.report === undefined) {
        callback(null, { name: state.name });
      } else {
        const trailer = new grpc.Metadata();
        trailer.set('endpoint-load-metrics-bin', Buffer.from(state.report));
        callback(null, { name: state.name }, trailer);
      }
    },
  });
  return state;
}

/** Where one call on `client` went (the server's name); rejects with the gRPC error. */
export function whoAmI(
  client: grpc.Client,
  options: { deadlineMs?: number; waitForReady?: boolean } = {},
): Promise<string> {
  const { deadlineMs = 5_000, waitForReady = false } = options;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      WHO_AM_I,
      toJson,
      fromJson,
      {},
      new grpc.Metadata({ waitForReady }),
      { deadline: Date.now() + deadlineMs },
      (error, response) => {
        if (error !== null || response === undefined) {
          reject(error ?? new Error('no response'));
        } else {
          resolve(response.name);
        }
      },
    );
  });
}
