import type { EtcdContext } from '../etcd/EtcdContext';
import type { PutAnswer, PutOp } from '../etcd/EtcdPort';

/** etcd's default `--max-txn-ops`. */
const MAX_OPS = 128;
/** Well under etcd's default `--max-request-bytes` (1.5 MiB), metadata included. */
const MAX_BYTES = 512 * 1024;

/** What etcd did with one put: the revision, and the lease that kept a guarded put from writing. */
export interface PutOutcome {
  readonly revision: bigint;
  /** The lease etcd found the key bound to, when it left a guarded put unwritten. */
  readonly heldBy: string | undefined;
}

interface Put extends PutOp {
  readonly resolve: (outcome: PutOutcome) => void;
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
   * Writes `key` = `value` bound to `lease`, with `ifLease` only while the key is bound to one of those
   * leases (see {@link PutOp}); resolves with what etcd did, or rejects with this op's own failure.
   */
  put(key: string, value: string, lease: string, ifLease?: readonly string[]): Promise<PutOutcome> {
    return new Promise((resolve, reject) => {
      const put = ifLease === undefined ? { key, value, lease } : { key, value, lease, ifLease };
      if (this.#queue.push({ ...put, resolve, reject }) === 1) {
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
      const answer = await this.#context.etcd.putAll(batch);
      batch.forEach((put) => put.resolve(outcomeOf(put, answer)));
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
      put.resolve(outcomeOf(put, await this.#context.etcd.putAll([put])));
    } catch (error) {
      put.reject(error);
    }
  }
}

function outcomeOf(put: PutOp, { revision, held }: PutAnswer): PutOutcome {
  return { revision, heldBy: held.get(put.key) };
}
