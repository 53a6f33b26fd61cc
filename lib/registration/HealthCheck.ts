import type { Cancel, Clock } from '../etcd/Clock';
import { messageOf } from '../errors/messageOf';
import { HealthVerdict } from './HealthVerdict';
import type { HealthCheckSettings } from './RegisterOptions';

/**
 * Runs one registration's health check on the clock: at once, then `checkIntervalMs` after each one
 * settled (never two at a time), each bounded by `checkTimeoutMs` (its signal is aborted, and a check
 * that never settles is left behind, counted failed). Reports each change of verdict (the first one
 * too, marked `first`), with the reason of the failure that made it failing.
 * @internal
 */
export class HealthCheck {
  readonly #settings: HealthCheckSettings;
  readonly #clock: Clock;
  readonly #onChange: (
    state: 'serving' | 'failing',
    reason: string | undefined,
    first: boolean,
  ) => void;
  readonly #verdict: HealthVerdict;
  #cancel: Cancel | undefined;
  #running: AbortController | undefined;
  #stopped = false;

  constructor(
    settings: HealthCheckSettings,
    clock: Clock,
    onChange: (state: 'serving' | 'failing', reason: string | undefined, first: boolean) => void,
  ) {
    this.#settings = settings;
    this.#clock = clock;
    this.#onChange = onChange;
    this.#verdict = new HealthVerdict(settings.unhealthyAfter, settings.healthyAfter);
  }

  /** `undefined` until the first check settled. */
  get state(): 'serving' | 'failing' | undefined {
    return this.#verdict.state;
  }

  start(): void {
    this.#run();
  }

  /** Stops checking: cancels the next check, aborts the running one. */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
    this.#running?.abort(new Error('the registration ended'));
  }

  #run(): void {
    this.#cancel = undefined;
    const abort = new AbortController();
    this.#running = abort;
    const { checkTimeoutMs } = this.#settings;
    let settle: (failure: string | undefined) => void = () => undefined;
    const outcome = new Promise<string | undefined>((resolve) => (settle = resolve));
    const cancelTimeout = this.#clock.schedule(checkTimeoutMs, () => {
      settle(`it did not settle within ${checkTimeoutMs}ms`);
      abort.abort(new Error(`health check timed out after ${checkTimeoutMs}ms`));
    });
    try {
      Promise.resolve(this.#settings.check(abort.signal)).then(
        () => settle(undefined),
        (error: unknown) => settle(messageOf(error)),
      );
    } catch (error) {
      settle(messageOf(error));
    }
    void outcome.then((failure) => {
      cancelTimeout();
      if (this.#stopped) {
        return;
      }
      this.#running = undefined;
      const first = this.#verdict.state === undefined;
      if (this.#verdict.record(failure === undefined)) {
        this.#onChange(this.#verdict.state as 'serving' | 'failing', failure, first);
      }
      this.#cancel = this.#clock.schedule(this.#settings.checkIntervalMs, () => this.#run());
    });
  }
}
