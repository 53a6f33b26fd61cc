import { rmSync } from 'node:fs';
import type { HttpTls } from './httpGet';
import { EtcdServer } from './EtcdServer';

/** How to run one member; built by {@link EtcdCluster}. */
export interface EtcdMemberSpec {
  /** The etcd binary. */
  readonly bin: string;
  /** The member's name in the cluster. */
  readonly name: string;
  /** Where it keeps its data (kept across restarts). */
  readonly dataDir: string;
  /** Where its output goes. */
  readonly logFile: string;
  /** `http://127.0.0.1:<port>` (or https) for clients. */
  readonly clientUrl: string;
  /** `http://127.0.0.1:<port>` for the other members. */
  readonly peerUrl: string;
  /** Every flag after `--name`, `--data-dir` and the URLs. */
  readonly args: readonly string[];
  /** TLS material for the health and metrics requests, when the client port speaks https. */
  readonly httpTls?: HttpTls;
}

/**
 * One etcd process of an {@link EtcdCluster}: start it, stop it (SIGTERM), kill it (SIGKILL), start it again
 * on the same ports and data, wipe its data, and read its health and metrics.
 *
 * @example
 * ```ts
 * const etcd = await EtcdCluster.start({ members: 3 });
 * await etcd.members[0].kill();     // a crash
 * await etcd.members[0].start();    // back, same data
 * ```
 */
export class EtcdMember extends EtcdServer {
  /** The member's name in the cluster. */
  readonly name: string;
  /** `http://127.0.0.1:<port>` (or https) that clients use: the same as {@link EtcdServer.url}. */
  readonly clientUrl: string;
  readonly #dataDir: string;

  constructor(spec: EtcdMemberSpec) {
    const { bin, name, dataDir, clientUrl, peerUrl, args, logFile, httpTls } = spec;
    super({
      bin,
      logFile,
      url: clientUrl,
      ...(httpTls !== undefined && { httpTls }),
      args: [
        ...['--name', name, '--data-dir', dataDir],
        ...['--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl],
        ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
        ...args,
      ],
    });
    this.name = name;
    this.clientUrl = clientUrl;
    this.#dataDir = dataDir;
  }

  /**
   * Deletes the member's data, as if its disk were replaced. Only while stopped: the next `start()`
   * begins an empty store (revision 1, no keys, no leases).
   */
  wipe(): void {
    if (this.running) {
      throw new Error(`stop ${this.name} before wiping its data`);
    }
    rmSync(this.#dataDir, { recursive: true, force: true });
  }
}
