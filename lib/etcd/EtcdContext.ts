import type { ExponentialBackoff } from 'cockatiel';
import type { Logger } from 'winston';
import type { RegistryMetrics } from '../metrics/RegistryMetrics';
import {
  classifyEtcdError,
  oneOffError,
  type EtcdOperation,
  type Verdict,
} from './classifyEtcdError';
import type { Clock } from './Clock';
import type { EtcdPort } from './EtcdPort';
import { retryBackoff } from './retryBackoff';

/**
 * What the parts of a registry share to talk to etcd: the port, the clock, where to log and count, and
 * the signal that the registry is closing.
 * @internal
 */
export class EtcdContext {
  /** gsr's one backoff policy, jittered by the clock's randomness. */
  readonly backoff: ExponentialBackoff<number>;

  constructor(
    readonly etcd: EtcdPort,
    readonly clock: Clock,
    readonly logger: Logger,
    readonly metrics: RegistryMetrics,
    /** The user gsr authenticates as, for error messages. */
    readonly username: string | undefined,
    /** Aborted when the registry closes: streams complete, retries stop. */
    readonly closing: AbortSignal,
  ) {
    this.backoff = retryBackoff(() => clock.random());
  }

  /** What to do about a failed request: the one classifier's verdict. */
  verdict(error: unknown, operation: EtcdOperation): Verdict {
    return classifyEtcdError(error, operation, this.username);
  }

  /** What a request made once rejects with: the verdict's typed error, else etcd unavailable. */
  failure(error: unknown, operation: EtcdOperation): Error {
    return oneOffError(error, operation, this.username);
  }
}
