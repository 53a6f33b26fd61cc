import { unmeasuredLag } from '../../lib/etcd/EventLoopLag';
import { PassThrough } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import type { Observable, Subscription } from 'rxjs';
import winston from 'winston';
import type { GsrConfig } from '../../lib/config/GsrConfig';
import { loadConfig } from '../../lib/config/loadConfig';
import { EndpointList } from '../../lib/discovery/EndpointList';
import type { PrefixState } from '../../lib/discovery/PrefixUpdate';
import { ServiceNames } from '../../lib/discovery/ServiceNames';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { isEtcdUnavailableError } from '../../lib/errors/EtcdUnavailableError';
import { isRegistryClosedError } from '../../lib/errors/RegistryClosedError';
import { ConnectionHealth, LOSS_CONFIRM_MS } from '../../lib/etcd/ConnectionHealth';
import { EtcdContext } from '../../lib/etcd/EtcdContext';
import { createKeyLayout } from '../../lib/keys/createKeyLayout';
import type { KeyLayout } from '../../lib/keys/KeyLayout';
import { OnceLog } from '../../lib/logging/OnceLog';
import { gsrMeter } from '../../lib/metrics/instruments';
import { RegistryMetrics } from '../../lib/metrics/RegistryMetrics';
import { Registry } from '../../lib/registry/Registry';
import { SnapshotStore } from '../../lib/snapshot/SnapshotStore';
import { MemoryFiles } from './MemoryFiles';
import { SimClock } from './SimClock';
import { type SimBackup, SimEtcd } from './SimEtcd';
import { type Network, SimPort } from './SimPort';

/** A simulation run found a state the registry must never be in. */
/**
 * How long after etcd was last unreachable health may still say "lost": the silence that makes a loss
 * (three 1 s deadlines) and the second that confirms a failure, with room for the last late answer.
 */
const LOST_AFTER_PARTITION_MS = 6000;

export class SimulationFailure extends Error {
  override readonly name = 'SimulationFailure';
}

/** What one run did, for the suite's report. */
export interface SimulationStats {
  readonly events: number;
  readonly virtualMs: number;
  readonly operations: number;
  readonly checkedEmissions: number;
  /** Of those, how many were lists from snapshots. */
  readonly fromSnapshots: number;
  readonly lostLists: number;
  readonly checkedReads: number;
  /** Processes stopped and started again (their lists from snapshots), and etcds wiped or restored. */
  readonly restarts: number;
  readonly restores: number;
  /** Runs with a second registry on the same addresses, drains before close, new etcd leaders. */
  readonly peers: number;
  readonly drains: number;
  readonly leaderChanges: number;
  /** Writes of any registry that etcd left unwritten because another live lease held the key. */
  readonly heldWrites: number;
}

const SERVICES = ['web', 'db'];
const ADDRESSES = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'];
/** How long the workload runs, in virtual ms; then faults heal and the registry closes. */
const WORKLOAD_MS = 40_000;
/** Who the other process is, to etcd: a second registry that registers the same addresses. */
const PEER = 'P';
/** Beyond this many events a run is stuck, which is a failure of its own. */
const MAX_EVENTS = 60_000;

/** A registration the workload made, as the model sees it. */
interface ModelRegistration {
  readonly key: string;
  readonly service: string;
  readonly value: string;
  readonly order: number;
  readonly subscription: Subscription;
  live: boolean;
}

/** A view of etcd a stream or a read shows: its values at each revision where it changed. */
interface View {
  readonly prefix: string;
  readonly state: () => PrefixState<unknown>;
  readonly versions: { readonly revision: bigint; readonly value: unknown }[];
}

/**
 * One seeded run of a registry against a simulated etcd. A seed decides everything: the configuration
 * (layout, lease TTL, grace period, network delays and losses, whether etcd's progress notifications
 * are ordered), a workload of registry operations (register, unsubscribe, unregister, streams and their
 * subscribers, one-off reads, close), writes of others (plain puts over live keys, deletes, values of
 * other layouts and tools, another owner's lease, revocations) and faults (partitions, broken streams,
 * compaction, an expired token). After every event it checks:
 *
 * 1. a live registration's key exists with its value and one of this registry's leases (or another live
 *    owner's), within a bounded time of etcd being reachable after any disturbance;
 * 2. after `unregister()` or `close()` resolves, no key this registry wrote is left; when `close()`
 *    rejects, it names every key it leaves;
 * 3. no lease of this registry outlives its last registration by more than a bounded time;
 * 4. every list a stream emits is etcd's state at a revision no earlier than the last one's (a stream's
 *    first list may be a snapshot from disk: a state etcd was in), but for the endpoints it keeps as
 *    lost, and every one-off read is etcd's state at a revision between its call and its answer
 *    (linearizable);
 * 5. an endpoint a list keeps as lost is one etcd held, as listed, before that revision, and one that
 *    did not say it was leaving when its key went (a planned departure is never kept);
 *
 * and at the end, that after `close()` nothing of the registry is left running (no timer, no stream).
 */
export class Simulation {
  readonly seed: number;
  readonly #clock: SimClock;
  readonly #etcd: SimEtcd;
  /** The process's connection to etcd, and its registry: both new after a restart. */
  #port: SimPort;
  #registry: Registry;
  /** Every connection a process of the run had: none may keep a stream open after its close. */
  readonly #ports: SimPort[] = [];
  /** How to start a process (the registry of this configuration, the disk its snapshots are on). */
  readonly #start: () => { readonly port: SimPort; readonly registry: Registry };
  /** A restart under way (the old process closing, the new one not yet started): no operations. */
  #restarting = false;
  /** The port's failures when the current registry first began to close. */
  #firstCloseFailures: number | undefined;
  /** Who the current process is, to etcd: the owner of its leases, the writer of its keys. */
  #owner = 'A1';
  #restarts = 0;
  /** Copies of etcd taken along the way, which a restore brings back. */
  readonly #backups: SimBackup[] = [];
  #restores = 0;
  #peers = 0;
  #drains = 0;
  #leaderChanges = 0;
  readonly #layout: KeyLayout;
  readonly #config: GsrConfig;
  readonly #network: Network;
  /** Whether `drain()` was called: registrations' keys may say draining from then on. */
  #drained = false;
  /** Whether answers may be lost on the network. */
  readonly #answersLost: boolean;
  readonly #description: string;
  readonly #trace: string[] = [];
  #traceLength = 40;
  readonly #registrations: ModelRegistration[] = [];
  readonly #streams: Subscription[] = [];
  readonly #views = new Map<string, View>();
  /** Keys with an `unregister()` under way: not registered again meanwhile. */
  readonly #unregistering = new Set<string>();
  /** When an `unregister()` of a key last settled. */
  readonly #unregisteredAt = new Map<string, number>();
  readonly #problems: string[] = [];
  readonly #bad = new Map<string, number>();
  /** Virtual ms during which the registry could reach etcd. */
  #reachableMs = 0;
  #lastNow = 0;
  /** When etcd was last unreachable (a partition began or ended), for invariant 4. */
  #lastUnreachable = -Infinity;
  #idleSince: number | undefined = 0;
  #order = 0;
  #operations = 0;
  #emissions = 0;
  /** Emissions that were a snapshot (a list started while etcd was lost). */
  #fromSnapshots = 0;
  /** Emissions that kept endpoints whose keys vanished unplanned (invariant 5). */
  #lostLists = 0;
  #reads = 0;
  #closed: 'no' | 'closing' | 'resolved' | 'rejected' = 'no';
  #closeError: unknown;

  constructor(seed: number) {
    this.seed = seed;
    const clock = new SimClock(seed);
    this.#clock = clock;
    this.#etcd = new SimEtcd(clock);
    const network: Network = {
      maxDelayMs: clock.pick([0, 2, 10, 40]),
      lostRequest: clock.pick([0, 0, 0.02, 0.1]),
      lostAnswer: clock.pick([0, 0, 0.02, 0.1]),
      lateRequest: clock.pick([0, 0, 0.02]),
      timeoutMs: 1000,
    };
    this.#network = network;
    const progressOrdered = clock.chance(0.5);
    this.#config = loadConfig(
      {
        keyLayout: clock.chance(0.8) ? 'gsr' : 'etcd-naming',
        keyPrefix: 'sim/',
        leaseSeconds: clock.int(2, 6),
        stampWrites: clock.chance(0.3),
      },
      {},
    );
    const gracePeriodMs = clock.pick([0, 50, 1000]);
    this.#layout = createKeyLayout(this.#config);
    this.#answersLost = network.lostAnswer > 0;
    this.#description =
      `layout ${this.#config.keyLayout}, lease ${this.#config.leaseSeconds}s, grace ${gracePeriodMs}ms, ` +
      `delay ≤${network.maxDelayMs}ms, lost requests ${network.lostRequest}, lost answers ` +
      `${network.lostAnswer}, late requests ${network.lateRequest}, progress ${progressOrdered ? 'ordered' : 'unordered'}` +
      (this.#config.stampWrites ? ', writes stamped' : '');
    // GSR_SIM_TRACE=1 adds the registry's own log lines (debug level) to the trace a failure prints.
    const tracing = process.env.GSR_SIM_TRACE !== undefined;
    const logger = tracing
      ? traceLogger((line) => this.#log(line))
      : winston.createLogger({ silent: true });
    this.#traceLength = tracing ? 400 : 40;
    // One disk for the run: a process started again finds the snapshots the last one wrote.
    const files = new MemoryFiles();
    this.#start = () => this.#startProcess(network, progressOrdered, gracePeriodMs, logger, files);
    ({ port: this.#port, registry: this.#registry } = this.#start());
    for (const service of SERVICES) {
      const prefix = this.#layout.servicePrefix(service);
      this.#views.set(service, {
        prefix,
        state: () => new EndpointList(service, prefix, this.#layout, new OnceLog(logger)),
        versions: [],
      });
    }
    const root = this.#layout.servicesPrefix;
    if (root !== undefined) {
      this.#views.set('', {
        prefix: root,
        state: () => new ServiceNames(this.#layout, new OnceLog(logger)),
        versions: [],
      });
    }
    for (const view of this.#views.values()) {
      this.#record(view, 1n);
    }
    // A lease that got no keepalive answer for its TTL is given up (by the next tick, a third of the
    // TTL later): nothing is written on it after that, but what was on its way.
    const ttlMs = this.#config.leaseSeconds * 1000;
    const givenUpBy = ttlMs + ttlMs / 3 + network.maxDelayMs;
    this.#etcd.onCommit((commit) => {
      if (commit.writer !== this.#owner) {
        return;
      }
      for (const change of commit.changes) {
        const heard = change.type === 'put' ? this.#port.renewedAt(change.lease) : undefined;
        if (heard !== undefined && this.#clock.now() - heard > givenUpBy) {
          this.#problems.push(
            `wrote ${change.key.toString()} on lease ${change.lease}, ${this.#clock.now() - heard}ms after it last heard it renewed (TTL ${ttlMs}ms): it should have given it up`,
          );
        }
      }
    });
    // 6. Nobody of this registry writes or deletes a key another live lease holds (another process's
    // registration of the address), but a user's own unregister() of it.
    this.#etcd.onCommit(({ writer, changes, displaced }) => {
      changes.forEach((change, i) => {
        const holder = displaced[i];
        const key = change.key.toString();
        // A user's unregister() deletes the key whoever holds it; a held-up attempt may land late.
        const askedAt = this.#unregisteredAt.get(key);
        const asked =
          change.type === 'delete' &&
          (this.#unregistering.has(key) ||
            (askedAt !== undefined && this.#clock.now() - askedAt <= 4 * this.#network.timeoutMs));
        const ours = writer === this.#owner || writer === PEER;
        if (ours && holder !== undefined && holder !== writer && !(asked && writer !== PEER)) {
          this.#problems.push(
            `${writer} ${change.type === 'put' ? 'wrote' : 'deleted'} ${key} while a live lease of ${holder} held it`,
          );
        }
      });
    });
    this.#etcd.onCommit((commit) => {
      for (const view of this.#views.values()) {
        if (commit.changes.some((change) => change.key.toString().startsWith(view.prefix))) {
          this.#record(view, commit.revision);
        }
      }
    });
  }

  /** A process: its connection to etcd (partitioned if the network is), its health, its registry. */
  #startProcess(
    network: Network,
    progressOrdered: boolean,
    gracePeriodMs: number,
    logger: winston.Logger,
    files: MemoryFiles,
  ): { readonly port: SimPort; readonly registry: Registry } {
    const clock = this.#clock;
    const health = new ConnectionHealth(logger, clock, { lag: unmeasuredLag });
    const closing = new AbortController();
    // Each process writes as itself: what a closed one left (named by its close) is not the next one's.
    this.#owner = `A${this.#ports.length + 1}`;
    const port = new SimPort(this.#etcd, this.#owner, network, { progressOrdered, health });
    if (this.#ports.at(-1)?.partitioned === true) {
      port.partition(); // The network is as it was: a process that starts while etcd is lost.
    }
    this.#ports.push(port);
    const context = new EtcdContext(
      port,
      clock,
      logger,
      new RegistryMetrics(gsrMeter(undefined)),
      undefined,
      closing.signal,
    );
    // 4. Health says "lost" only on evidence: never while etcd answered within the last second and was
    // reachable all along lately, however many answers came late or streams broke.
    let everConnected = false;
    health.state$.subscribe(({ connected }) => {
      const now = this.#clock.now();
      if (connected) {
        everConnected = true;
      } else if (
        everConnected &&
        !port.partitioned &&
        now - this.#lastUnreachable > LOST_AFTER_PARTITION_MS &&
        now - port.lastAnswerAt < LOSS_CONFIRM_MS
      ) {
        this.#problems.push(
          `health said "lost" at ${now}ms, ${now - port.lastAnswerAt}ms after etcd last ` +
            `answered and ${now - this.#lastUnreachable}ms after it was last unreachable`,
        );
      }
    });
    const registry = new Registry({
      context,
      health,
      closing,
      config: this.#config,
      layout: this.#layout,
      gracePeriodMs,
      // Lists kept on a disk in memory: a list started while etcd is lost shows its snapshot first.
      snapshots: new SnapshotStore(
        '/snapshots',
        { etcd: this.#config.etcdEndpoints, keyPrefix: this.#config.keyPrefix },
        { maxAgeMs: 3_600_000, clock, logger, files },
      ),
    });
    return { port, registry };
  }

  /** Runs the whole schedule; throws a {@link SimulationFailure} at the first broken invariant. */
  async run(): Promise<SimulationStats> {
    const unhandled = (reason: unknown): void => {
      this.#problems.push(`an unhandled rejection: ${String(reason)}`);
    };
    process.on('unhandledRejection', unhandled);
    try {
      this.#plan();
      let events = 0;
      while (this.#clock.step()) {
        await new Promise((resolve) => setImmediate(resolve)); // Every microtask runs, as in Node.
        events += 1;
        this.#check();
        if (this.#problems.length > 0) {
          throw this.#failure(this.#problems.join('; '));
        }
        if (events > MAX_EVENTS) {
          throw this.#failure(`still running after ${MAX_EVENTS} events`);
        }
      }
      this.#checkEnd();
      if (this.#problems.length > 0) {
        throw this.#failure(this.#problems.join('; '));
      }
      return {
        events,
        virtualMs: this.#clock.now(),
        operations: this.#operations,
        checkedEmissions: this.#emissions,
        fromSnapshots: this.#fromSnapshots,
        lostLists: this.#lostLists,
        checkedReads: this.#reads,
        restarts: this.#restarts,
        restores: this.#restores,
        peers: this.#peers,
        drains: this.#drains,
        leaderChanges: this.#leaderChanges,
        heldWrites: this.#etcd.heldPuts,
      };
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  }

  /** Schedules the workload, the writes of others and the faults, then the heal and the close. */
  #plan(): void {
    const clock = this.#clock;
    const count = clock.int(15, 60);
    for (let i = 0; i < count; i++) {
      clock.at(clock.int(0, WORKLOAD_MS), () => this.#operate());
    }
    clock.at(WORKLOAD_MS, () => {
      this.#port.heal();
      this.#log('heal');
    });
    const closeAt = WORKLOAD_MS + clock.int(0, 3 * this.#config.leaseSeconds * 1000);
    if (clock.chance(0.3)) {
      // A registration moments before close(): its lease is still being granted.
      clock.at(closeAt - clock.int(0, 20), () => this.#register());
    }
    for (let i = clock.int(0, 3); i > 0; i--) {
      clock.at(clock.int(0, WORKLOAD_MS), () => this.#backups.push(this.#etcd.backup()));
    }
    if (clock.chance(0.4)) {
      this.#startPeer(closeAt);
    }
    if (clock.chance(0.3)) {
      // As on SIGTERM: drain (keys say draining, and clients see it), then close.
      const drainAt = closeAt - clock.int(0, 2000);
      clock.at(drainAt, () => this.#drain());
    }
    clock.at(closeAt, () => {
      this.#closed = 'closing';
      void this.#close().then(({ error }) => {
        this.#closed = error === undefined ? 'resolved' : 'rejected';
        this.#closeError = error;
      });
    });
  }

  /**
   * Closes the process's registry and checks what it left (invariant 2): resolves when `close()`
   * settles, with its error if it rejected.
   */
  async #close(): Promise<{ readonly error?: unknown }> {
    const port = this.#port;
    // From the registry's first close: a run that ends before a restarted process started closes the
    // stopped one again, whose first close may have lost its revocation.
    const failuresBefore = (this.#firstCloseFailures ??= port.failures);
    this.#log('close()');
    try {
      await this.#registry.close();
      this.#log('close() resolved');
      this.#checkGone('close()', []);
      // A closing registry tries its revocation once (it must not hang on an etcd that does not
      // answer), and a lease it gave up as lost may still be on etcd when keepalive answers were
      // lost: either expires within its TTL (invariant 3). Otherwise close() revokes them all.
      // But a lease granted by a request that reached etcd after the registry gave up on it: nobody
      // knows of it, nothing is written on it, and it expires (invariant 3).
      const leftover = this.#etcd
        .leases()
        .filter((lease) => lease.owner === this.#owner && !port.lateGrants.has(lease.id));
      if (leftover.length > 0 && !this.#answersLost && port.failures === failuresBefore) {
        this.#problems.push(
          `close() resolved and left lease ${leftover.map((lease) => lease.id).join(', ')}`,
        );
      }
      return {};
    } catch (error) {
      this.#log(`close() rejected: ${String(error)}`);
      if (!isEtcdUnavailableError(error)) {
        this.#problems.push(`close() rejected with ${String(error)}`);
      } else {
        this.#checkGone('close()', error.keys);
      }
      return { error };
    }
  }

  /**
   * The process stops (`close()`, as on SIGTERM) and starts again a moment later, maybe while etcd is
   * lost: its lists start from the snapshots the last one left on disk.
   */
  #restart(): void {
    this.#restarting = true;
    this.#restarts += 1;
    this.#log('restart: the process stops');
    for (const registration of this.#registrations) {
      registration.live = false; // They end with the process.
    }
    this.#noteIdle();
    void this.#close().then(() => {
      this.#streams.splice(0).forEach((stream) => stream.unsubscribe());
      this.#clock.at(this.#clock.int(0, 2000), () => {
        if (this.#closed !== 'no') {
          return; // The run ended meanwhile: the process it closed was the last.
        }
        ({ port: this.#port, registry: this.#registry } = this.#start());
        this.#firstCloseFailures = undefined;
        this.#restarting = false;
        this.#log(`restart: the process starts${this.#port.partitioned ? ' (etcd lost)' : ''}`);
      });
    });
  }

  /**
   * Another process with a registry of its own (owner {@link PEER}) registers the same addresses now
   * and then, and closes with the run: two gsr registries that meet at a key leave it to whoever holds
   * it (invariant 6 holds for both), and it errs nowhere.
   */
  #startPeer(closeAt: number): void {
    const clock = this.#clock;
    this.#peers += 1;
    const logger = winston.createLogger({ silent: true });
    const health = new ConnectionHealth(logger, clock, { lag: unmeasuredLag });
    const closing = new AbortController();
    const port = new SimPort(this.#etcd, PEER, this.#network, {
      progressOrdered: true,
      health,
    });
    this.#ports.push(port);
    const context = new EtcdContext(
      port,
      clock,
      logger,
      new RegistryMetrics(gsrMeter(undefined)),
      undefined,
      closing.signal,
    );
    const peer = new Registry({
      context,
      health,
      closing,
      config: this.#config,
      layout: this.#layout,
      gracePeriodMs: 0,
    });
    const live: Subscription[] = [];
    for (let i = clock.int(3, 12); i > 0; i--) {
      clock.at(clock.int(0, WORKLOAD_MS), () => {
        if (live.length > 0 && clock.chance(0.4)) {
          const ended = live.splice(clock.int(0, live.length - 1), 1);
          this.#log('the peer ends a registration');
          ended.forEach((subscription) => subscription.unsubscribe());
          return;
        }
        const endpoint = this.#randomEndpoint();
        this.#log(`the peer registers ${this.#layout.endpointKey(endpoint)}`);
        live.push(
          peer.register(endpoint).subscribe({
            error: (error: unknown) =>
              this.#problems.push(`the peer's registration errored: ${String(error)}`),
          }),
        );
      });
    }
    clock.at(closeAt, () => {
      live.splice(0).forEach((subscription) => subscription.unsubscribe());
      void peer.close().catch((error: unknown) => {
        if (!isEtcdUnavailableError(error)) {
          this.#problems.push(`the peer's close() rejected with ${String(error)}`);
        }
      });
    });
  }

  /** `drain()`, as on SIGTERM before `close()`: it must settle, or end with the registry's close. */
  #drain(): void {
    if (this.#closed !== 'no' || this.#restarting) {
      return;
    }
    this.#log('drain()');
    this.#drained = true;
    this.#drains += 1;
    this.#registry.drain({ delayMs: this.#clock.int(0, 1000) }).then(
      () => this.#log('drain() resolved'),
      (error: unknown) => {
        if (!isRegistryClosedError(error)) {
          this.#problems.push(`drain() rejected with ${String(error)}`);
        }
      },
    );
  }

  /**
   * etcd stops and comes back wiped, or restored from one of the backups taken earlier: another cluster,
   * its revision maybe behind what the lists saw.
   */
  #restoreEtcd(): void {
    const backup = this.#clock.chance(0.3)
      ? undefined
      : this.#clock.pick([undefined, ...this.#backups]);
    const downMs = this.#clock.int(200, 3000);
    this.#restores += 1;
    this.#log(
      backup === undefined
        ? `etcd is wiped (down ${downMs}ms)`
        : `etcd is restored to revision ${backup.revision} (down ${downMs}ms)`,
    );
    this.#port.partition();
    this.#lastUnreachable = this.#clock.now();
    this.#etcd.restore(backup);
    for (const view of this.#views.values()) {
      this.#record(view, this.#etcd.revision);
    }
    this.#clock.at(downMs, () => {
      this.#log('etcd is back');
      this.#port.heal();
      this.#lastUnreachable = this.#clock.now();
    });
  }

  /** One random step of the workload, of someone else, or of the network. */
  #operate(): void {
    if (this.#closed !== 'no' || this.#restarting) {
      return;
    }
    this.#operations += 1;
    const clock = this.#clock;
    const roll = clock.int(0, 99);
    if (roll < 28) {
      this.#register();
    } else if (roll < 40) {
      this.#unsubscribeRegistration();
    } else if (roll < 45) {
      this.#unregister();
    } else if (roll < 53) {
      this.#subscribeStream();
    } else if (roll < 57) {
      this.#unsubscribeStream();
    } else if (roll < 67) {
      this.#read();
    } else if (roll < 72) {
      this.#foreignPut();
    } else if (roll < 76) {
      this.#foreignDelete();
    } else if (roll < 80) {
      this.#foreignOwner();
    } else if (roll < 83) {
      this.#revokeOurLease();
    } else if (roll < 88) {
      this.#partition();
    } else if (roll < 92) {
      this.#log('break the streams');
      this.#port.breakStreams();
    } else if (roll < 94) {
      this.#log(`compact at ${this.#etcd.revision}`);
      this.#etcd.compact(this.#etcd.revision);
    } else if (roll < 96) {
      this.#restart();
    } else if (roll < 98) {
      this.#restoreEtcd();
    } else if (clock.chance(0.5)) {
      this.#log('a new etcd leader (every lease’s TTL refreshed)');
      this.#leaderChanges += 1;
      this.#etcd.electLeader();
    } else {
      this.#log('expire the token');
      this.#port.expireToken();
    }
  }

  #randomEndpoint(): Endpoint {
    const clock = this.#clock;
    const metadata = clock.pick([undefined, { v: 1 }, { v: 2, zone: 'a' }]);
    const endpoint = { service: clock.pick(SERVICES), address: clock.pick(ADDRESSES) };
    return metadata === undefined ? endpoint : { ...endpoint, metadata };
  }

  #register(): void {
    const endpoint = this.#layout.validateEndpoint(this.#randomEndpoint());
    const key = this.#layout.endpointKey(endpoint);
    if (this.#unregistering.has(key) || this.#restarting) {
      return; // Not during an unregister of the key, nor while the process is stopping.
    }
    this.#log(`register ${key} ${JSON.stringify(endpoint.metadata)}`);
    const model = {
      key,
      service: endpoint.service,
      value: this.#layout.encodeValue(endpoint),
      order: this.#order++,
      live: true,
    } as ModelRegistration;
    const end = (): void => {
      model.live = false;
      this.#noteIdle();
    };
    (model as { subscription: Subscription }).subscription = this.#registry
      .register(endpoint)
      .subscribe({
        error: (error: unknown) => {
          end();
          this.#problems.push(`registration of ${key} errored: ${String(error)}`);
        },
        complete: end,
      });
    this.#registrations.push(model);
    this.#idleSince = undefined;
  }

  #unsubscribeRegistration(): void {
    const live = this.#registrations.filter((registration) => registration.live);
    if (live.length === 0) {
      return;
    }
    const chosen = this.#clock.pick(live);
    this.#log(`unsubscribe ${chosen.key}`);
    chosen.live = false;
    chosen.subscription.unsubscribe();
    this.#noteIdle();
  }

  #unregister(): void {
    const endpoint = this.#randomEndpoint();
    const key = this.#layout.endpointKey(endpoint);
    if (this.#unregistering.has(key)) {
      return;
    }
    this.#unregistering.add(key);
    this.#log(`unregister ${key}`);
    const since = this.#etcd.revision;
    const cluster = this.#etcd.cluster;
    this.#registry.unregister(endpoint).then(
      () => {
        this.#unregistering.delete(key);
        this.#unregisteredAt.set(key, this.#clock.now());
        this.#log(`unregister ${key} resolved`);
        this.#checkGone(`unregister(${key})`, [], key);
        // Nor is it left without a lease as it was before the call (an operator's put, say): that is
        // the key unregister() deletes, whoever wrote it (a key on another's lease is theirs).
        const stored = this.#etcd.get(key);
        if (
          stored !== undefined &&
          stored.entry.lease === '0' &&
          stored.entry.modRevision <= since &&
          this.#etcd.cluster === cluster
        ) {
          this.#problems.push(
            `after unregister(${key}), etcd still holds it without a lease, as ${stored.writer} put it before the call`,
          );
        }
      },
      (error: unknown) => {
        this.#unregistering.delete(key);
        this.#unregisteredAt.set(key, this.#clock.now());
        this.#log(`unregister ${key} rejected: ${String(error)}`);
        if (!isRegistryClosedError(error)) {
          this.#problems.push(`unregister(${key}) rejected with ${String(error)}`);
        }
      },
    );
  }

  #subscribeStream(): void {
    const name = this.#clock.pick([...this.#views.keys()]);
    const view = this.#views.get(name) as View;
    this.#log(`subscribe ${name === '' ? 'services$()' : `endpoints$(${name})`}`);
    let index = 0;
    /** What this stream last showed at each address, but lost ones. */
    const shown = new Map<string, Endpoint>();
    const registry = this.#registry;
    const stream$: Observable<unknown> =
      name === '' ? registry.services$() : registry.endpoints$(name);
    this.#streams.push(
      stream$.subscribe({
        next: (value) => {
          this.#emissions += 1;
          if (registry.freshness(value as readonly string[]).kind === 'snapshot') {
            this.#fromSnapshots += 1;
          }
          // Endpoints kept as lost are not etcd's: the rest must be etcd's state, and they its past.
          const all = value as readonly Endpoint[];
          const lost = name === '' ? [] : all.filter((endpoint) => endpoint.state === 'lost');
          const live = lost.length === 0 ? value : all.filter((e) => e.state !== 'lost');
          const found = this.#find(view, live, index, view.versions.length - 1);
          if (found >= 0 && lost.length > 0) {
            this.#lostLists += 1;
            this.#checkLost(`endpoints$(${name})`, view, lost, shown);
          }
          if (name !== '') {
            shown.clear();
            (live as readonly Endpoint[]).forEach((e) => shown.set(e.address, e));
          }
          if (found < 0) {
            this.#problems.push(
              `${name === '' ? 'services$()' : `endpoints$(${name})`} emitted ${JSON.stringify(value)}, ` +
                `not etcd's state at any revision since the last list it emitted ` +
                `(${String(view.versions[index]?.revision)})`,
            );
          } else {
            index = found;
          }
        },
        error: (error: unknown) =>
          this.#problems.push(`a stream of ${name || 'services'} errored: ${String(error)}`),
      }),
    );
  }

  #unsubscribeStream(): void {
    if (this.#streams.length === 0) {
      return;
    }
    const index = this.#clock.int(0, this.#streams.length - 1);
    this.#log('unsubscribe a stream');
    this.#streams.splice(index, 1)[0]?.unsubscribe();
  }

  #read(): void {
    const name = this.#clock.pick([...this.#views.keys()]);
    const view = this.#views.get(name) as View;
    const what = name === '' ? 'services()' : `endpoints(${name})`;
    this.#log(what);
    const from = view.versions.length - 1;
    const read: Promise<unknown> =
      name === '' ? this.#registry.services() : this.#registry.endpoints(name);
    read.then(
      (value) => {
        this.#reads += 1;
        const to = view.versions.length - 1;
        if (this.#find(view, value, from, to) < 0) {
          this.#problems.push(
            `${what} answered ${JSON.stringify(value)}, not etcd's state at any revision between ` +
              `its call (${String(view.versions[from]?.revision)}) and its answer ` +
              `(${String(view.versions[to]?.revision)}): ` +
              JSON.stringify(view.versions.slice(from, to + 1).map((version) => version.value)),
          );
        }
      },
      (error: unknown) => {
        if (!isEtcdUnavailableError(error) && !isRegistryClosedError(error)) {
          this.#problems.push(`${what} rejected with ${String(error)}`);
        }
      },
    );
  }

  #poolKey(): string {
    return this.#layout.endpointKey(this.#randomEndpoint());
  }

  #foreignPut(): void {
    const key = this.#poolKey();
    const clock = this.#clock;
    const own = this.#registrations.find((registration) => registration.key === key);
    const value = clock.pick([
      own?.value ?? '',
      '{"v":9}',
      'not json \u0000\u001b[31m',
      '{"Op":0,"Addr":"10.0.0.9:80","Metadata":null}',
      '\u00ff\u00fe',
    ]);
    this.#log(`someone puts ${key} = ${JSON.stringify(value)} without a lease`);
    this.#etcd.putAll([{ key, value, lease: '0' }], 'operator');
  }

  #foreignDelete(): void {
    const key = this.#poolKey();
    this.#log(`someone deletes ${key}`);
    this.#etcd.deleteKey(key, undefined, 'operator');
  }

  #foreignOwner(): void {
    const key = this.#poolKey();
    const clock = this.#clock;
    const lease = this.#etcd.grant(5, 'B');
    this.#log(`another registry registers ${key} on lease ${lease}`);
    this.#etcd.putAll([{ key, value: '{"b":true}', lease }], 'B');
    const lifetime = clock.int(1000, 15_000);
    const renew = (): void => {
      if (this.#etcd.hasLease(lease) && clock.now() < WORKLOAD_MS) {
        this.#etcd.keepAlive(lease);
        clock.at(1000, renew);
      }
    };
    renew();
    clock.at(lifetime, () => {
      if (this.#etcd.hasLease(lease)) {
        this.#log(`the other registry leaves (revokes ${lease})`);
        this.#etcd.revoke(lease, 'B');
      }
    });
  }

  #revokeOurLease(): void {
    const ours = this.#etcd.leases().filter((lease) => lease.owner === this.#owner);
    if (ours.length > 0) {
      const { id } = this.#clock.pick(ours);
      this.#log(`an operator revokes our lease ${id}`);
      this.#etcd.revoke(id, 'operator');
    }
  }

  #partition(): void {
    const durationMs = this.#clock.int(500, 2500 * this.#config.leaseSeconds);
    this.#log(`partition for ${durationMs}ms`);
    this.#port.partition();
    this.#lastUnreachable = this.#clock.now();
    this.#clock.at(durationMs, () => {
      this.#log('partition healed');
      this.#port.heal();
      this.#lastUnreachable = this.#clock.now();
    });
  }

  /** Invariants 1 and 3, after every event. */
  #check(): void {
    const now = this.#clock.now();
    if (!this.#port.partitioned) {
      this.#reachableMs += now - this.#lastNow;
    }
    this.#lastNow = now;
    const ttlMs = this.#config.leaseSeconds * 1000;
    // 1. Live registrations have their key.
    const wanted = new Map<string, ModelRegistration>();
    for (const registration of this.#registrations) {
      const latest = wanted.get(registration.key);
      if (registration.live && (latest === undefined || latest.order < registration.order)) {
        wanted.set(registration.key, registration);
      }
    }
    const ourLeases = new Set(
      this.#etcd
        .leases()
        .filter((lease) => lease.owner === this.#owner)
        .map((lease) => lease.id),
    );
    for (const key of this.#bad.keys()) {
      if (!wanted.has(key)) {
        this.#bad.delete(key);
      }
    }
    const boundMs = 3 * ttlMs + 8000;
    for (const [key, registration] of wanted) {
      const stored = this.#etcd.get(key)?.entry;
      const ours =
        stored !== undefined &&
        ourLeases.has(stored.lease) &&
        this.#sameListing(registration, stored.value);
      const othersLive =
        stored !== undefined && stored.lease !== '0' && !ourLeases.has(stored.lease);
      if (ours || othersLive) {
        this.#bad.delete(key);
        continue;
      }
      const since = this.#bad.get(key) ?? this.#reachableMs;
      this.#bad.set(key, since);
      if (this.#reachableMs - since > boundMs) {
        this.#problems.push(
          `${key} is registered but etcd holds ${describe(stored)} (our leases: ` +
            `${[...ourLeases].join(', ') || 'none'}), for ${this.#reachableMs - since}ms of etcd ` +
            `being reachable (bound ${boundMs}ms)`,
        );
      }
    }
    // 3. No lease outlives the registrations.
    if (this.#idleSince !== undefined && ourLeases.size > 0) {
      const boundLeaseMs = ttlMs + 5000;
      if (this.#reachableMs - this.#idleSince > boundLeaseMs) {
        this.#problems.push(
          `lease ${[...ourLeases].join(', ')} is still there ${this.#reachableMs - this.#idleSince}ms ` +
            `after the last registration ended (bound ${boundLeaseMs}ms)`,
        );
      }
    }
  }

  /**
   * Whether etcd's `value` lists what `registration` wrote (a write's time stamp aside, and its state
   * once the registry drains).
   */
  #sameListing(registration: ModelRegistration, value: Buffer): boolean {
    if (value.toString() === registration.value) {
      return true;
    }
    const { key, service } = registration;
    const id = key.slice(this.#layout.servicePrefix(service).length);
    const read = (bytes: Buffer): Record<string, unknown> | undefined => {
      const decoded = this.#layout.decodeEntry(service, id, bytes);
      return 'endpoint' in decoded ? { ...decoded.endpoint } : undefined;
    };
    const found = read(value);
    const wanted = read(Buffer.from(registration.value));
    if (found === undefined || wanted === undefined) {
      return false;
    }
    if (this.#drained) {
      delete found.state;
      delete wanted.state;
    }
    return isDeepStrictEqual(found, wanted);
  }

  /** After the queue ran dry: the registry closed and left nothing running. */
  #checkEnd(): void {
    if (this.#closed !== 'resolved' && this.#closed !== 'rejected') {
      this.#problems.push(`close() never settled (${this.#closed})`);
      return;
    }
    if (this.#clock.liveTimers() > 0) {
      this.#problems.push(`${this.#clock.liveTimers()} timers still pending after close()`);
    }
    const open = this.#ports.reduce((sum, port) => sum + port.openStreams, 0);
    if (open > 0) {
      this.#problems.push(`${open} streams still open after close()`);
    }
    const closeError = this.#closeError;
    this.#checkGone('the end', isEtcdUnavailableError(closeError) ? closeError.keys : []);
  }

  /** Invariant 2: no key this registry wrote is left (but those `named` as left), for `key` or all. */
  #checkGone(after: string, named: readonly string[], key?: string): void {
    const keys =
      key === undefined ? this.#etcd.range(this.#config.keyPrefix) : [this.#etcd.get(key)?.entry];
    for (const entry of keys) {
      if (entry === undefined) {
        continue;
      }
      const stored = this.#etcd.get(entry.key);
      const name = entry.key.toString();
      if (stored?.writer === this.#owner && !named.includes(name)) {
        this.#problems.push(`after ${after}, etcd still holds ${name} as this registry wrote it`);
      }
    }
  }

  #noteIdle(): void {
    if (this.#idleSince === undefined && !this.#registrations.some((r) => r.live)) {
      this.#idleSince = this.#reachableMs;
    }
  }

  /**
   * Invariant 5: an endpoint listed as lost is one etcd held, exactly so but for its state, and one
   * that this stream did not last show leaving (draining): a planned departure is never kept.
   */
  #checkLost(
    what: string,
    view: View,
    lost: readonly Endpoint[],
    shown: ReadonlyMap<string, Endpoint>,
  ): void {
    for (const kept of lost) {
      const endpoint: Endpoint = { ...kept };
      delete (endpoint as { state?: unknown }).state; // As etcd listed it.
      const held = view.versions.some((version) =>
        (version.value as readonly Endpoint[]).some((e) => isDeepStrictEqual(e, endpoint)),
      );
      if (!held) {
        this.#problems.push(
          `${what} kept ${JSON.stringify(endpoint)} as lost, which etcd never held`,
        );
      }
      if (shown.get(endpoint.address)?.state === 'draining') {
        this.#problems.push(
          `${what} kept ${endpoint.address} as lost after it showed it leaving (draining)`,
        );
      }
    }
  }

  /** The index of the first version from `from` to `to` whose value is `value`, or -1. */
  #find(view: View, value: unknown, from: number, to: number): number {
    for (let i = Math.max(0, from); i <= to; i++) {
      if (isDeepStrictEqual(view.versions[i]?.value, value)) {
        return i;
      }
    }
    return -1;
  }

  #record(view: View, revision: bigint): void {
    const state = view.state();
    state.reset(this.#etcd.range(view.prefix));
    const value = state.snapshot();
    const last = view.versions[view.versions.length - 1];
    if (last === undefined || !isDeepStrictEqual(last.value, value)) {
      view.versions.push({ revision, value });
    }
  }

  #log(what: string): void {
    this.#trace.push(
      `${String(this.#clock.now()).padStart(6)}ms rev ${this.#etcd.revision}: ${what}`,
    );
    if (this.#trace.length > this.#traceLength) {
      this.#trace.shift();
    }
  }

  #failure(what: string): SimulationFailure {
    return new SimulationFailure(
      `simulation seed ${this.seed} failed at ${this.#clock.now()}ms: ${what}\n` +
        `  (${this.#description})\n` +
        `  replay it: GSR_SIM_SEED=${this.seed} npx jest spec/sim\n` +
        `  the last operations:\n    ${this.#trace.join('\n    ')}`,
    );
  }
}

/** A logger whose every record (debug and up) becomes a line of the trace. */
function traceLogger(log: (line: string) => void): winston.Logger {
  const stream = new PassThrough({ objectMode: true });
  stream.on('data', (info: winston.Logform.TransformableInfo) => {
    log(`  (${info.level}) ${String(info.message)}`);
  });
  return winston.createLogger({
    level: 'debug',
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston types transports as interface + constructor
    transports: [new winston.transports.Stream({ stream })],
  });
}

function describe(entry: { readonly value: Buffer; readonly lease: string } | undefined): string {
  return entry === undefined
    ? 'nothing'
    : `${JSON.stringify(entry.value.toString())} on lease ${entry.lease}`;
}
