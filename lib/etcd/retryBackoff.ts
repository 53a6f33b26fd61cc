import { ExponentialBackoff, type GeneratorFn, noJitterGenerator } from 'cockatiel';

/** The first delay after a transient etcd failure, in milliseconds. @internal */
export const RETRY_INITIAL_DELAY_MS = 100;

/**
 * The longest delay between two attempts, in milliseconds: a recovered etcd is noticed within about two
 * seconds (gRPC's own reconnect backoff grows to 120 s). @internal
 */
export const RETRY_MAX_DELAY_MS = 2000;

/**
 * The one backoff policy of every etcd retry in gsr (connect, watches, leases and writes): exponential
 * from {@link RETRY_INITIAL_DELAY_MS} to {@link RETRY_MAX_DELAY_MS}, each delay drawn from its upper half
 * with `random`, so that many clients recovering from one outage do not retry in step. cockatiel makes
 * the exponential steps; the jitter takes its randomness from the registry's clock, so that a simulation
 * replays it.
 * @internal
 */
export function retryBackoff(random: () => number): ExponentialBackoff<number> {
  const halfJitter: GeneratorFn<number> = (attempts, options) => {
    const [delay, next] = noJitterGenerator(attempts, options);
    return [delay / 2 + (random() * delay) / 2, next];
  };
  return new ExponentialBackoff({
    generator: halfJitter,
    initialDelay: RETRY_INITIAL_DELAY_MS,
    maxDelay: RETRY_MAX_DELAY_MS,
  });
}
