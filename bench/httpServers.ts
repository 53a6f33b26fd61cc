import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A loopback HTTP server for the balancing scenarios: says who it is, after `delayMs`. */
export interface BenchServer {
  readonly name: string;
  readonly address: string;
  served: number;
  delayMs: number;
  /** Stops as a crash would: connections reset, nothing listening. */
  kill(): Promise<void>;
}

export async function startServer(name: string, delayMs: number): Promise<BenchServer> {
  const server: Server = createServer();
  const sockets = new Set<Socket>();
  const state: BenchServer = {
    name,
    address: '',
    served: 0,
    delayMs,
    kill: async () => {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => server.close(resolve));
    },
  };
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (_request, response) => {
    const answer = (): void => {
      state.served += 1;
      response.end(name);
    };
    if (state.delayMs > 0) {
      setTimeout(answer, state.delayMs);
    } else {
      answer();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { address: string }).address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
