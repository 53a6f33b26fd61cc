import type { EtcdContext } from '../etcd/EtcdContext';
import type { PutOp } from '../etcd/EtcdPort';

/** etcd's default `--max-txn-ops`. */
const MAX_OPS = 128;
/** Well under etcd's default `--max-request-bytes` (1.5 MiB), metadata included. */
const MAX_BYTES = 512 * 1024;

interface Put extends PutOp {
  /** Resolves with the revision etcd wrote the key at. */
  readonly resolve: (revision: bigint) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Lease-bound puts asked for in the same tick go to etcd together, in transactions of up to 128: a
 * service that registers many endpoints at once, or every registration written again after a lost
 * lease, costs one round trip per 128 keys instead of one per key.
 *
 * One bad op fails a whole transaction. A failure the one classifier calls transient is answered to
 * every op (each retries on its own backoff); any other (a lease etcd no longer knows, a key the user
 * may not write) is retried op by op, so that each gets its own answer and one denied key cannot fail
 * its neighbours.
 * @internal
 */
export class PutBatcher {
  readonly #context: EtcdContext;
  #queue: Put[] = [];

  constructor(context: EtcdContext) {
    this.#context = context;
  }

  /**
   * Writes `key` = `value` bound to `lease`; resolves with the revision it was written at, or rejects
   * with this op's own failure.
   */
  put(key: string, value: string, lease: string): Promise<bigint> {
    return new Promise((resolve, reject) => {
      if (this.#queue.push({ key, value, lease, resolve, reject }) === 1) {
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    let batch: Put[] = [];
    let bytes = 0;
    for (const put of queue) {
      const size = put.key.length + put.value.length + 32;
      if (batch.length === MAX_OPS || (batch.length > 0 && bytes + size > MAX_BYTES)) {
        void this.#send(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(put);
      bytes += size;
    }
    if (batch.length > 0) {
      void this.#send(batch);
    }
  }

  async #send(batch: readonly Put[]): Promise<void> {
    if (batch.length === 1) {
      return this.#sendOne(batch[0] as Put);
    }
    try {
      const revision = await this.#context.etcd.putAll(batch);
      batch.forEach((put) => put.resolve(revision));
    } catch (error) {
      const operation = {
        key: batch[0]?.key ?? '',
        description: `register ${batch.length} endpoints`,
      };
      if (this.#context.verdict(error, operation).kind === 'retry') {
        batch.forEach((put) => put.reject(error));
      } else {
        await Promise.all(batch.map((put) => this.#sendOne(put)));
      }
    }
  }

  async #sendOne(put: Put): Promise<void> {
    try {
      put.resolve(await this.#context.etcd.putAll([put]));
    } catch (error) {
      put.reject(error);
    }
  }
}
