import type { Observable } from 'rxjs';
import type { Logger } from 'winston';
import { NoEndpointError } from '../errors/NoEndpointError';
import type { Cancel, Clock } from '../etcd/Clock';
import { escapeText } from '../text/escapeText';
import type { EndpointRecord } from './EndpointRecord';

/** Past this, calls still waiting for an endpoint are said to wait, once, with what they wait for. */
const WAIT_WARNING_MS = 5000;

/** What a balancer tells its waits. */
interface EndpointWaitContext {
  /** The list's changes: a wait tries again at each. */
  readonly list$: Observable<unknown>;
  /** How long a call waits for a first endpoint; `Infinity` for as long as it takes. */
  readonly timeoutMs: number;
  /** Time, and the waits' timers. */
  readonly clock: Clock;
  /** The service, for the errors and the warning, when known. */
  service(): string | undefined;
  /** What else the list waits for before it has any endpoint, when it does (subsetting's peers). */
  waitingFor(): string | undefined;
  /** Whether the balancer was closed (the list then completes). */
  closed(): boolean;
  logger(): Logger;
}

/**
 * The calls of a balancer that wait for an endpoint they may be sent to: each tries again at every
 * change of the list, until it finds one, its signal aborts or the timeout passes (a
 * {@link NoEndpointError} naming the service), and a warning says, once they have waited
 * {@link WAIT_WARNING_MS}, what they wait for. Each wait releases its subscription, timer and listener.
 * @internal
 */
export class EndpointWait {
  readonly #context: EndpointWaitContext;
  #waiting = 0;
  #cancelWarning: Cancel | undefined;

  constructor(context: EndpointWaitContext) {
    this.#context = context;
  }

  /**
   * Resolves with what `pick` finds at the next change of the list that gives one; rejects with what
   * it throws (a strategy's error), or as described above.
   */
  until(
    pick: () => EndpointRecord | undefined,
    signal: AbortSignal | undefined,
  ): Promise<EndpointRecord> {
    const { list$, timeoutMs, clock } = this.#context;
    const since = clock.now();
    this.#start();
    return new Promise((resolve, reject) => {
      let cancelTimeout: Cancel | undefined;
      let settled = false;
      const done = (): void => {
        if (!settled) {
          settled = true;
          this.#stop();
        }
        cancelTimeout?.();
        signal?.removeEventListener('abort', aborted);
        subscription.unsubscribe();
      };
      const aborted = (): void => {
        done();
        reject(signal?.reason as Error);
      };
      const subscription = list$.subscribe({
        next: () => {
          let ready: EndpointRecord | undefined;
          try {
            ready = pick();
          } catch (error) {
            // A StrategyError: the call's, never the list's subscriber's.
            queueMicrotask(done);
            reject(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (ready !== undefined) {
            queueMicrotask(done);
            resolve(ready);
          }
        },
        error: (error: unknown) => {
          queueMicrotask(done);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
        complete: () => {
          queueMicrotask(done);
          const reason = this.#context.closed() ? 'closed' : 'completed';
          reject(new NoEndpointError(clock.now() - since, reason, this.#context.service()));
        },
      });
      signal?.addEventListener('abort', aborted, { once: true });
      if (timeoutMs !== Infinity) {
        cancelTimeout = clock.schedule(timeoutMs, () => {
          done();
          reject(
            new NoEndpointError(
              clock.now() - since,
              'timeout',
              this.#context.service(),
              this.#context.waitingFor(),
            ),
          );
        });
      }
    });
  }

  #start(): void {
    this.#waiting += 1;
    if (this.#cancelWarning === undefined) {
      // A warning must not keep a process alive.
      this.#cancelWarning = this.#context.clock.schedule(
        WAIT_WARNING_MS,
        () => {
          const service = this.#context.service();
          const what =
            service === undefined ? 'an endpoint' : `an endpoint of "${escapeText(service)}"`;
          const { timeoutMs } = this.#context;
          const until = timeoutMs === Infinity ? 'until one comes' : `up to ${timeoutMs}ms`;
          const why = this.#context.waitingFor() ?? 'the list has none that may be picked';
          this.#context
            .logger()
            .warn(
              `balancer: ${this.#waiting} call(s) have waited ${WAIT_WARNING_MS}ms for ${what} (${why}); they wait ${until}`,
            );
        },
        { keepsAlive: false },
      );
    }
  }

  #stop(): void {
    this.#waiting -= 1;
    if (this.#waiting === 0) {
      this.#cancelWarning?.();
      this.#cancelWarning = undefined;
    }
  }
}
