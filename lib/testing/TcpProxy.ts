import { connect, createServer, type Server, type Socket } from 'node:net';

/** How {@link TcpProxy.cut} severs the client. */
export type CutMode =
  /** Connections are reset, and new ones closed at once: the client sees errors immediately. */
  | 'reset'
  /** Connections stay open but nothing passes, like a network partition: only timeouts notice. */
  | 'blackhole';

/**
 * A loopback TCP proxy that a test can cut and heal, to partition a client from etcd while etcd itself
 * keeps running (after etcd3's own test utilities).
 *
 * @example
 * ```ts
 * const proxy = await TcpProxy.start(etcd.endpoints[0]);
 * const registry = await Registry.connect({ etcdEndpoints: proxy.url });
 * proxy.cut();         // the registry loses etcd
 * await proxy.heal();  // and gets it back
 * proxy.slow(400);     // every byte now takes 400 ms more each way: a slow link, not a broken one
 * await proxy.close();
 * ```
 */
export class TcpProxy {
  readonly #server: Server;
  #target: { host: string; port: number };
  readonly #pairs = new Set<[Socket, Socket | undefined]>();
  #cut: CutMode | undefined;
  #delayMs = 0;
  #answerDelayMs = 0;
  /** `http://127.0.0.1:<port>` (the target's scheme): what the client under test connects to. */
  readonly url: string;

  private constructor(server: Server, target: URL, url: string) {
    this.#server = server;
    this.#target = { host: target.hostname, port: Number(target.port) };
    this.url = url;
  }

  /** Starts a proxy on a free loopback port to `target` (`http://host:port`). */
  static async start(target: string): Promise<TcpProxy> {
    const targetUrl = new URL(target);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const proxy = new TcpProxy(server, targetUrl, `${targetUrl.protocol}//127.0.0.1:${port}`);
    server.on('connection', (client) => proxy.#accept(client));
    return proxy;
  }

  /**
   * Points new connections at `target` (`http://host:port`) from now on: another server behind the same
   * address, as after a DNS change or an etcd cluster created again. Connections open now stay where
   * they are (cut them first to move the client).
   */
  retarget(target: string): void {
    const url = new URL(target);
    this.#target = { host: url.hostname, port: Number(url.port) };
  }

  /** Whether the proxy is cut. */
  get isCut(): boolean {
    return this.#cut !== undefined;
  }

  /** Severs the client from the target until {@link TcpProxy.heal}. */
  cut(mode: CutMode = 'reset'): void {
    this.#cut = mode;
    for (const pair of this.#pairs) {
      if (mode === 'reset') {
        this.#destroy(pair);
      } else {
        pair[1]?.pause();
        pair[0].pause();
      }
    }
  }

  /**
   * Delays every chunk by `delayMs` each way, in order, on open connections and new ones (`0` ends
   * it): a congested or distant link, which answers late but answers.
   */
  slow(delayMs: number): void {
    this.#delayMs = delayMs;
  }

  /**
   * Delays only what the target sends back by `delayMs` more (`0` ends it): requests arrive and are
   * served, but their answers come after a client's deadline.
   */
  slowAnswers(delayMs: number): void {
    this.#answerDelayMs = delayMs;
  }

  /** Lets traffic through again: new connections reach the target. Black-holed ones are reset. */
  heal(): Promise<void> {
    this.#cut = undefined;
    // A black-holed connection has lost bytes in both directions; only a fresh one is sound.
    this.#pairs.forEach((pair) => this.#destroy(pair));
    return Promise.resolve();
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    this.#pairs.forEach((pair) => this.#destroy(pair));
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.#cut === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const pair: [Socket, Socket | undefined] = [client, undefined];
    this.#pairs.add(pair);
    if (this.#cut === 'blackhole') {
      client.pause();
      return;
    }
    const upstream = connect(this.#target.port, this.#target.host);
    pair[1] = upstream;
    upstream.on('error', () => this.#destroy(pair));
    client.on('close', () => this.#destroy(pair));
    upstream.on('close', () => this.#destroy(pair));
    this.#forward(client, upstream, () => this.#delayMs);
    this.#forward(upstream, client, () => this.#delayMs + this.#answerDelayMs);
  }

  /** Copies `from` to `to`, each chunk held for the delay of the moment, never overtaking another. */
  #forward(from: Socket, to: Socket, delayMs: () => number): void {
    let lastRelease = 0;
    from.on('data', (chunk: Buffer) => {
      if (this.#cut === 'blackhole') {
        return;
      }
      const release = Math.max(Date.now() + delayMs(), lastRelease);
      lastRelease = release;
      const send = (): void => {
        if (!to.destroyed && this.#cut === undefined) {
          to.write(chunk);
        }
      };
      if (release <= Date.now()) {
        send();
      } else {
        setTimeout(send, release - Date.now());
      }
    });
  }

  #destroy(pair: [Socket, Socket | undefined]): void {
    this.#pairs.delete(pair);
    pair[0].resetAndDestroy();
    pair[1]?.resetAndDestroy();
  }
}
