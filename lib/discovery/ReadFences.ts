import type { Clock } from '../etcd/Clock';

/** A read waiting for the list to reach a revision. */
interface Fence {
  readonly revision: bigint;
  readonly settle: (reached: boolean) => void;
}

/** How long a fenced read waits for the watch to reach etcd's revision before it reads etcd instead. */
const FENCE_WAIT_MS = 500;
/** After a progress request went unanswered (a proxy that ignores them), how long reads do without. */
const PROGRESS_RETRY_MS = 60_000;

/**
 * The reads waiting for a watched list to reach a revision (Kubernetes' consistent reads from cache,
 * KEP-2340): each settles when the list reaches its revision, or gives up after {@link FENCE_WAIT_MS}
 * (the reader then reads etcd). A fence that gave up says progress requests go unanswered here (etcd's
 * 3.4 grpc-proxy ignores them): reads do without them for {@link PROGRESS_RETRY_MS}.
 * @internal
 */
export class ReadFences {
  readonly #clock: Clock;
  readonly #fences: Fence[] = [];
  /** When a progress request last went unanswered, if it did. */
  #progressMissedAt: number | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether progress requests were answered lately (or were last missed long enough ago). */
  get progressAnswered(): boolean {
    return (
      this.#progressMissedAt === undefined ||
      this.#clock.now() - this.#progressMissedAt >= PROGRESS_RETRY_MS
    );
  }

  /** A progress notification arrived. */
  progressed(): void {
    this.#progressMissedAt = undefined;
  }

  /**
   * Resolves whether the list reaches `revision` within {@link FENCE_WAIT_MS}; `requestProgress` asks
   * the watch to say where it is.
   */
  wait(revision: bigint, requestProgress: () => void): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = this.#clock.schedule(FENCE_WAIT_MS, () => {
        const index = this.#fences.indexOf(fence);
        if (index >= 0) {
          this.#fences.splice(index, 1);
          this.#progressMissedAt = this.#clock.now();
          resolve(false);
        }
      });
      const fence: Fence = {
        revision,
        settle: (reached) => {
          cancel();
          resolve(reached);
        },
      };
      this.#fences.push(fence);
      requestProgress();
    });
  }

  /** The list reached `applied`: the fences it passed settle; progress is asked again for the rest. */
  reached(applied: bigint, requestProgress: () => void): void {
    if (this.#fences.length === 0) {
      return;
    }
    for (let i = this.#fences.length - 1; i >= 0; i--) {
      const fence = this.#fences[i] as Fence;
      if (applied >= fence.revision) {
        this.#fences.splice(i, 1);
        fence.settle(true);
      }
    }
    if (this.#fences.length > 0) {
      requestProgress(); // A member that lags behind the one that gave the revision.
    }
  }

  /** The list ended: every waiting read gives up. */
  cancelAll(): void {
    this.#fences.splice(0).forEach((fence) => fence.settle(false));
  }
}
