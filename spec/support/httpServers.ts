import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A test HTTP server on a free loopback port that says who it is, after `delayMs`. */
export interface TestServer {
  readonly name: string;
  readonly address: string;
  /** Requests it has answered. */
  served: number;
  delayMs: number;
  /** Stops it as a crash would: every connection reset, nothing listening any more. */
  kill(): Promise<void>;
}

/** Starts `names.length` servers; {@link closeServers} stops them. */
export async function startServers(names: readonly string[], delayMs = 0): Promise<TestServer[]> {
  return Promise.all(names.map((name) => startServer(name, delayMs)));
}

const running = new Set<{ server: Server; sockets: Set<Socket> }>();

async function startServer(name: string, delayMs: number): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const entry = { server: createServer(), sockets };
  const test: TestServer = {
    name,
    address: '',
    served: 0,
    delayMs,
    kill: async () => {
      running.delete(entry);
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => entry.server.close(resolve));
    },
  };
  entry.server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  entry.server.on('request', (_request, response) => {
    setTimeout(() => {
      test.served += 1;
      response.end(name);
    }, test.delayMs);
  });
  await new Promise<void>((resolve) => entry.server.listen(0, '127.0.0.1', resolve));
  running.add(entry);
  (test as { address: string }).address =
    `127.0.0.1:${(entry.server.address() as AddressInfo).port}`;
  return test;
}

/** Stops every server {@link startServers} started that is still running. */
export async function closeServers(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(
    all.map(({ server, sockets }) => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(resolve));
    }),
  );
}
