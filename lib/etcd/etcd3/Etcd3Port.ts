import type {
  Etcd3,
  IDuplexStream,
  ILeaseKeepAliveRequest,
  ILeaseKeepAliveResponse,
  IRequestOp,
  IResponseOp,
} from 'etcd3';
import type { GsrConfig } from '../../config/GsrConfig';
import type { RegistryMetrics } from '../../metrics/RegistryMetrics';
import { CallTracker } from './CallTracker';
import type { ConnectionHealth } from '../ConnectionHealth';
import { type Cancel, systemClock } from '../Clock';
import { createEtcdClient } from './createEtcdClient';
import { EtcdFailure } from '../EtcdFailure';
import type {
  EtcdEntry,
  EtcdPort,
  EtcdPosition,
  KeepAlive,
  KeepAliveListener,
  PrefixDelta,
  PutAnswer,
  PutOp,
  RangeResult,
  WatchHandle,
  WatchListener,
} from '../EtcdPort';
import { toEtcdFailure } from './toEtcdFailure';
import { type FlatTxn, guardedDelete, guardedPutAll } from '../guardedWrites';
import { prefixRange } from '../prefixRange';
import { positionOf } from './positionOf';
import { dropStream, WatchStream } from './WatchStream';

type KeepAliveStream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

/**
 * The {@link EtcdPort} over a real etcd, through etcd3's gRPC clients: the one place in gsr that imports
 * etcd3. Each request's outcome is reported to the registry's health here (etcd answered, or could not be
 * reached), its duration to the metrics (by the {@link CallTracker} every call passes), and each failure
 * is turned into an {@link EtcdFailure} for the one classifier.
 * @internal
 */
export class Etcd3Port implements EtcdPort {
  readonly #client: Etcd3;
  readonly #calls: CallTracker;
  readonly #health: ConnectionHealth;
  readonly #watches: WatchStream;
  readonly #requestTimeoutMs: number;
  #progressOrdered = false;

  constructor(config: GsrConfig, health: ConnectionHealth, metrics: RegistryMetrics) {
    this.#requestTimeoutMs = config.requestTimeoutSeconds * 1000;
    this.#calls = new CallTracker(metrics, health);
    this.#client = createEtcdClient(config, this.#calls);
    this.#health = health;
    this.#watches = new WatchStream(() => this.#client.watchClient.watch(), health);
  }

  get progressOrdered(): boolean {
    return this.#progressOrdered;
  }

  /**
   * Asks etcd its version once, to know whether its progress notifications are ordered (etcd#15220,
   * fixed in 3.4.25 and 3.5.8). Anything that keeps it from answering leaves them untrusted.
   */
  async learnVersion(): Promise<string | undefined> {
    try {
      const { version } = await this.#client.maintenance.status();
      this.#progressOrdered = orderedProgress(version);
      return version;
    } catch {
      return undefined;
    }
  }

  range(prefix: string): Promise<RangeResult> {
    return this.#request(async () => {
      const { header, kvs } = await this.#client.kv.range(prefixRange(prefix));
      return { ...positionOf(header), entries: kvs.map(toEntry) };
    });
  }

  revision(key: string): Promise<EtcdPosition> {
    return this.#request(async () => {
      // etcd takes an empty key for "no key given": `\0` is the first key there is.
      const { header } = await this.#client.kv.range({
        key: key === '' ? Buffer.from([0]) : Buffer.from(key),
        keys_only: true,
      });
      return positionOf(header);
    });
  }

  delta(prefix: string, revision: bigint): Promise<PrefixDelta> {
    return this.#request(async () => {
      const range = prefixRange(prefix);
      const { header, responses } = await this.#client.kv.txn({
        success: [
          { request_range: { ...range, count_only: true } },
          {
            request_range: {
              ...range,
              keys_only: true,
              min_mod_revision: String(revision + 1n),
            },
          },
        ],
      });
      const [all, changed] = responses.map((response) => response.response_range);
      return {
        ...positionOf(header),
        count: Number(all?.count ?? '0'),
        changed: changed?.kvs.length ?? 0,
      };
    });
  }

  probe(
    prefix: string,
    options: { readonly serializable: boolean; readonly deadline?: number },
  ): Promise<void> {
    return this.#request(async () => {
      await this.#client.kv.range(
        {
          ...prefixRange(prefix),
          limit: 1,
          keys_only: true,
          serializable: options.serializable,
        },
        options.deadline === undefined ? undefined : { deadline: options.deadline },
      );
    });
  }

  watch(prefix: string, startRevision: bigint, listener: WatchListener): WatchHandle {
    return this.#watches.watch(prefix, startRevision, listener);
  }

  putAll(puts: readonly PutOp[]): Promise<PutAnswer> {
    return this.#request(async () => {
      const [only] = puts;
      if (puts.length === 1 && only?.ifLease === undefined) {
        const { key, value, lease } = only as PutOp;
        const { header } = await this.#client.kv.put({
          key: Buffer.from(key),
          value: Buffer.from(value),
          lease,
        });
        return { revision: BigInt(header.revision), held: new Map() };
      }
      return guardedPutAll(this.#flat, puts);
    });
  }

  deleteKey(
    key: string,
    ifLease?: readonly string[],
  ): Promise<{ readonly deleted: boolean; readonly revision: bigint }> {
    return this.#request(() => guardedDelete(this.#flat, key, ifLease));
  }

  /** One transaction, never nested (see {@link guardedPutAll}). */
  readonly #flat: FlatTxn = async (ifLease, writes) => {
    const response = await this.#client.kv.txn({
      compare: ifLease.map(({ key, lease }) => ({
        key: Buffer.from(key),
        target: 'Lease',
        result: 'Equal',
        lease,
      })),
      success: writes.map((write): IRequestOp =>
        'put' in write
          ? {
              request_put: {
                key: Buffer.from(write.put.key),
                value: Buffer.from(write.put.value),
                lease: write.put.lease,
              },
            }
          : { request_delete_range: { key: Buffer.from(write.delete) } },
      ),
      failure: ifLease.map(({ key }) => ({
        request_range: { key: Buffer.from(key), keys_only: true },
      })),
    });
    // One field of each response is set (a protobuf oneof), whatever etcd3's types say.
    const responses = response.responses as Partial<IResponseOp>[];
    const leases = new Map<string, string>();
    if (!response.succeeded) {
      ifLease.forEach(({ key }, i) => {
        leases.set(key, responses[i]?.response_range?.kvs[0]?.lease ?? '0');
      });
    }
    return {
      succeeded: response.succeeded,
      revision: BigInt(response.header.revision),
      deleted: responses.reduce(
        (sum, r) => sum + Number(r.response_delete_range?.deleted ?? '0'),
        0,
      ),
      leases,
    };
  };

  grantLease(ttlSeconds: number): Promise<string> {
    return this.#request(async () => {
      const { ID } = await this.#client.leaseClient.leaseGrant({ TTL: ttlSeconds });
      return ID;
    });
  }

  revokeLease(lease: string): Promise<void> {
    return this.#request(async () => {
      await this.#client.leaseClient.leaseRevoke({ ID: lease });
    }).catch((error: unknown) => {
      if (!(error instanceof EtcdFailure && error.kind === 'lease-not-found')) {
        throw error; // A lease etcd does not know is revoked already.
      }
    });
  }

  keepAlive(lease: string, listener: KeepAliveListener): KeepAlive {
    let stream: KeepAliveStream | undefined;
    let closed = false;
    let asked = false;
    let streaming = false;
    // A renewal is a request like any other: unanswered within the request deadline, it is late.
    let unanswered: Cancel | undefined;
    const expectAnswer = (): void => {
      unanswered ??= systemClock.schedule(
        this.#requestTimeoutMs,
        () => {
          unanswered = undefined;
          if (!closed) {
            this.#health.late(new Error(`no keepalive answer within ${this.#requestTimeoutMs}ms`));
          }
        },
        { keepsAlive: false },
      );
    };
    const answered = (): void => {
      unanswered?.();
      unanswered = undefined;
    };
    const drop = (): void => {
      answered();
      if (streaming) {
        streaming = false;
        this.#health.streamClosed();
      }
      if (stream !== undefined) {
        dropStream(stream);
        stream = undefined;
      }
    };
    const fail = (error: unknown): void => {
      if (closed) {
        return;
      }
      closed = true;
      drop();
      const failure = toEtcdFailure(error);
      this.#report(failure);
      listener.failed(failure);
    };
    this.#client.leaseClient.leaseKeepAlive().then((opened) => {
      if (closed) {
        dropStream(opened);
        return;
      }
      stream = opened;
      opened.on('data', (response) => {
        if (closed) {
          return;
        }
        answered();
        this.#health.up();
        if (!streaming) {
          streaming = true;
          this.#health.streamOpened();
        }
        listener.renewed(Number(response.TTL));
      });
      opened.on('error', fail);
      opened.on('end', () => fail(new Error('etcd ended the keepalive stream')));
      if (asked) {
        opened.write({ ID: lease });
        expectAnswer();
      }
    }, fail);
    return {
      renew: () => {
        if (stream === undefined) {
          asked = true;
        } else {
          stream.write({ ID: lease });
          expectAnswer();
        }
      },
      close: () => {
        closed = true;
        drop();
      },
    };
  }

  close(): void {
    this.#watches.close();
    this.#client.close();
    // etcd3 closes streams only once etcd answers; a paused or partitioned etcd would keep them (and
    // the process) alive until gRPC's keepalive gives up. Cancelled here, they end at once.
    this.#calls.cancelAll();
  }

  /** Runs one request: its outcome is reported to health, its failure typed. */
  async #request<T>(send: () => Promise<T>): Promise<T> {
    try {
      const result = await send();
      this.#health.up();
      return result;
    } catch (error) {
      const failure = toEtcdFailure(error);
      this.#report(failure);
      throw failure;
    }
  }

  /**
   * A failure says etcd is unreachable, or that it answered late (which alone proves no loss), or that
   * it answered (a refusal, an unknown lease).
   */
  #report(failure: unknown): void {
    if (!(failure instanceof EtcdFailure) || failure.kind === 'closed') {
      return;
    }
    if (failure.kind === 'unavailable') {
      this.#health.down(failure.cause ?? failure);
    } else if (failure.kind === 'late') {
      this.#health.late(failure.cause ?? failure);
    } else {
      this.#health.up();
    }
  }
}

function toEntry(kv: {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly mod_revision: string;
  readonly version: string;
  readonly lease: string;
}): EtcdEntry {
  return {
    key: kv.key,
    value: kv.value,
    modRevision: BigInt(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease,
  };
}

/** Whether etcd `version` sends progress notifications only after the events before them. */
export function orderedProgress(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((part) => parseInt(part, 10));
  if (major !== 3) {
    return major > 3;
  }
  return minor > 5 || (minor === 5 && patch >= 8) || (minor === 4 && patch >= 25);
}
