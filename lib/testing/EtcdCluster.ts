import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EtcdMember } from './EtcdMember';
import { freePorts } from './freePorts';
import type { HttpTls } from './httpGet';
import { scratchDir } from './scratchDir';

/** Options of {@link EtcdCluster.start}. */
export interface EtcdClusterOptions {
  /**
   * Number of members.
   * @default 1
   */
  readonly members?: number;
  /**
   * The etcd binary.
   * @default process.env.GSR_ETCD_BIN ?? 'etcd'
   */
  readonly bin?: string;
  /**
   * Raft heartbeat interval; with `electionTimeoutMs`, how fast a lost leader is replaced.
   * @default 100
   */
  readonly heartbeatIntervalMs?: number;
  /** @default 1000 */
  readonly electionTimeoutMs?: number;
  /** Extra flags for every member, e.g. `['--auth-token', 'simple']`. */
  readonly args?: readonly string[];
  /**
   * Serve clients over TLS: each member gets `--cert-file`/`--key-file` (and, with `clientCertAuth`,
   * `--client-cert-auth --trusted-ca-file`). `client` is what the fixture itself presents when it checks
   * health.
   */
  readonly tls?: {
    /** The server's certificate (PEM file). */
    readonly certFile: string;
    /** The server's private key (PEM file). */
    readonly keyFile: string;
    /** The CA that signs client certificates (PEM file). */
    readonly trustedCaFile: string;
    /** Whether etcd requires a client certificate signed by `trustedCaFile`. */
    readonly clientCertAuth?: boolean;
    /** What the fixture's own health and metrics requests present. */
    readonly client: HttpTls;
  };
  /**
   * The directory under which the members' data and logs go (a fresh one per cluster, removed by
   * `close()`).
   * @default `/dev/shm` when it has room (etcd's fsyncs then cost nothing on a busy machine), else
   * `os.tmpdir()`
   */
  readonly parentDir?: string;
  /**
   * How long to wait for a healthy cluster.
   * @default 30000
   */
  readonly startTimeoutMs?: number;
}

const START_ATTEMPTS = 3;

/**
 * A throwaway etcd for tests, demos and benchmarks: one member or several, on free loopback ports, with
 * data in a temporary directory that {@link EtcdCluster.close} removes. Members can be stopped, killed,
 * paused and started again to simulate failures.
 *
 * Needs the `etcd` binary (Debian: `apt-get install -y etcd-server`) or `GSR_ETCD_BIN`.
 *
 * @example
 * ```ts
 * import { EtcdCluster } from 'gsr/testing';
 *
 * const etcd = await EtcdCluster.start({ members: 3 });
 * process.env.GSR_ETCD_ENDPOINTS = etcd.endpoints.join(',');
 * // ... run the code under test ...
 * await etcd.close();
 * ```
 */
export class EtcdCluster {
  /** The members, in the order of {@link EtcdCluster.endpoints}. */
  readonly members: readonly EtcdMember[];
  /** The temporary directory holding every member's data and log. */
  readonly dir: string;

  private constructor(dir: string, members: readonly EtcdMember[]) {
    this.dir = dir;
    this.members = members;
  }

  /** Client URLs of every member, e.g. `['http://127.0.0.1:40123']`. */
  get endpoints(): string[] {
    return this.members.map((member) => member.clientUrl);
  }

  /** Starts the members and resolves once every one reports itself healthy. */
  static async start(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(options.parentDir ?? scratchDir(), 'gsr-etcd-'));
    for (let attempt = 1; ; attempt++) {
      const cluster = new EtcdCluster(dir, await planMembers(dir, attempt, options));
      try {
        await Promise.all(cluster.members.map((member) => member.start()));
        await cluster.waitHealthy(options.startTimeoutMs);
        return cluster;
      } catch (error) {
        await cluster.#stopAll();
        // Another process may have taken one of the free ports before etcd bound it.
        const portTaken = cluster.members.some((m) =>
          m.logTail().includes('address already in use'),
        );
        if (!portTaken || attempt === START_ATTEMPTS) {
          rmSync(dir, { recursive: true, force: true });
          throw error;
        }
      }
    }
  }

  /** Resolves once every running member reports itself healthy; rejects after `timeoutMs`. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = this.members.filter((member) => member.running);
      const health = await Promise.all(running.map((member) => member.healthy()));
      if (running.length > 0 && health.every(Boolean)) {
        return;
      }
      if (running.length === 0 || Date.now() > deadline) {
        const logs = this.members.map((m) => `--- ${m.name} ---\n${m.logTail()}`).join('\n');
        throw new Error(`etcd did not become healthy within ${timeoutMs}ms\n${logs}`);
      }
      await sleep(100);
    }
  }

  /** The member that is the Raft leader now (per its `etcd_server_is_leader` metric), if any. */
  async leader(): Promise<EtcdMember | undefined> {
    for (const member of this.members.filter((m) => m.running)) {
      const metrics = await member.metrics().catch(() => undefined);
      if (metrics?.get('etcd_server_is_leader') === 1) {
        return member;
      }
    }
    return undefined;
  }

  /** Kills every member and deletes the data directory. */
  async close(): Promise<void> {
    await this.#stopAll();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #stopAll(): Promise<void> {
    await Promise.all(this.members.map((member) => member.kill()));
  }
}

async function planMembers(
  dir: string,
  attempt: number,
  options: EtcdClusterOptions,
): Promise<EtcdMember[]> {
  const count = options.members ?? 1;
  const ports = await freePorts(count * 2);
  const clientScheme = options.tls === undefined ? 'http' : 'https';
  const names = Array.from({ length: count }, (_, i) => `m${i}-${attempt}`);
  const peerUrls = names.map((_, i) => `http://127.0.0.1:${ports[count + i] ?? 0}`);
  const initialCluster = names.map((name, i) => `${name}=${peerUrls[i] ?? ''}`).join(',');
  const tls = options.tls;
  const args = [
    ...['--initial-cluster', initialCluster, '--initial-cluster-state', 'new'],
    ...['--initial-cluster-token', `gsr-${randomBytes(6).toString('hex')}`],
    ...['--heartbeat-interval', String(options.heartbeatIntervalMs ?? 100)],
    ...['--election-timeout', String(options.electionTimeoutMs ?? 1000)],
    ...['--logger', 'zap', '--log-outputs', 'stderr'],
    ...(tls === undefined
      ? []
      : [
          ...['--cert-file', tls.certFile, '--key-file', tls.keyFile],
          // etcd 3.4 asks every client for a certificate once it has a trusted CA.
          ...(tls.clientCertAuth === true
            ? ['--client-cert-auth', '--trusted-ca-file', tls.trustedCaFile]
            : []),
        ]),
    ...(options.args ?? []),
  ];
  return names.map(
    (name, i) =>
      new EtcdMember({
        bin: options.bin ?? process.env.GSR_ETCD_BIN ?? 'etcd',
        name,
        dataDir: join(dir, name),
        logFile: join(dir, `${name}.log`),
        clientUrl: `${clientScheme}://127.0.0.1:${ports[i] ?? 0}`,
        peerUrl: peerUrls[i] ?? '',
        args,
        ...(tls !== undefined && { httpTls: tls.client }),
      }),
  );
}
