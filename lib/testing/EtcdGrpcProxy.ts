import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdServer } from './EtcdServer';
import { freePorts } from './freePorts';

/** Options of {@link EtcdGrpcProxy.start}. */
export interface EtcdGrpcProxyOptions {
  /** The cluster's client URLs, e.g. `etcd.endpoints`. */
  readonly endpoints: readonly string[];
  /**
   * The etcd binary (the proxy is `etcd grpc-proxy start`).
   * @default process.env.GSR_ETCD_BIN ?? 'etcd'
   */
  readonly bin?: string;
  /**
   * How long to wait for the proxy to answer.
   * @default 10000
   */
  readonly startTimeoutMs?: number;
}

/**
 * etcd's gRPC proxy (`etcd grpc-proxy start`, the same binary) in front of a test cluster, on a free
 * loopback port: etcd's own answer to many clients. It coalesces identical watches (N registries
 * watching one service through one proxy cost the etcd server one watcher) and serves leases, reads and
 * writes. Kill it and start it again to test failover.
 *
 * @example
 * ```ts
 * const etcd = await EtcdCluster.start();
 * const proxy = await EtcdGrpcProxy.start({ endpoints: etcd.endpoints });
 * const registry = await Registry.connect({ etcdEndpoints: proxy.url });
 * await proxy.kill(); // streams retry; registrations hold while shorter than their TTL
 * await proxy.start();
 * await proxy.close();
 * ```
 */
export class EtcdGrpcProxy extends EtcdServer {
  readonly #dir: string;
  readonly #startTimeoutMs: number;

  private constructor(
    dir: string,
    bin: string,
    url: string,
    endpoints: readonly string[],
    startTimeoutMs: number,
  ) {
    const address = url.replace('http://', '');
    super({
      bin,
      url,
      logFile: join(dir, 'proxy.log'),
      args: [
        ...['grpc-proxy', 'start'],
        `--endpoints=${endpoints.map((endpoint) => endpoint.replace(/^https?:\/\//, '')).join(',')}`,
        `--listen-addr=${address}`,
        `--advertise-client-url=${address}`,
        `--data-dir=${join(dir, 'data')}`,
      ],
    });
    this.#dir = dir;
    this.#startTimeoutMs = startTimeoutMs;
  }

  /** Starts a proxy on a free loopback port and resolves once it answers. */
  static async start(options: EtcdGrpcProxyOptions): Promise<EtcdGrpcProxy> {
    const [port] = await freePorts(1);
    const dir = mkdtempSync(join(tmpdir(), 'gsr-etcd-proxy-'));
    const proxy = new EtcdGrpcProxy(
      dir,
      options.bin ?? process.env.GSR_ETCD_BIN ?? 'etcd',
      `http://127.0.0.1:${port ?? 0}`,
      options.endpoints,
      options.startTimeoutMs ?? 10_000,
    );
    try {
      await proxy.start();
    } catch (error) {
      await proxy.close();
      throw error;
    }
    return proxy;
  }

  /** Starts the process again (a no-op if running) and resolves once it answers. */
  override async start(): Promise<void> {
    await super.start();
    const deadline = Date.now() + this.#startTimeoutMs;
    while (!(await this.healthy())) {
      if (!this.running || Date.now() > deadline) {
        throw new Error(
          `the etcd gRPC proxy did not answer within ${this.#startTimeoutMs}ms\n${this.logTail()}`,
        );
      }
      await sleep(50);
    }
  }

  /** Kills the proxy and deletes its directory. */
  async close(): Promise<void> {
    await this.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
