import { castGrpcError, EtcdLeaseInvalidError, type Etcd3 } from 'etcd3';
import type { Logger } from 'winston';
import { classifyEtcdError, type EtcdOperation } from './classifyEtcdError';
import type { CallTracker } from './CallTracker';
import type { RegistryMetrics } from '../metrics/RegistryMetrics';
import type { ConnectionHealth } from './ConnectionHealth';

/**
 * What the parts of a registry share to talk to etcd, and the one place that turns an etcd failure into
 * "retry" (reported to health) or "fail with this typed error".
 * @internal
 */
export class EtcdContext {
  readonly #calls: CallTracker;

  constructor(
    readonly client: Etcd3,
    calls: CallTracker,
    readonly logger: Logger,
    readonly health: ConnectionHealth,
    readonly metrics: RegistryMetrics,
    /** The user gsr authenticates as, for error messages. */
    readonly username: string | undefined,
    /** Aborted when the registry closes: streams complete, retries stop. */
    readonly closing: AbortSignal,
  ) {
    this.#calls = calls;
  }

  /**
   * Closes the client and ends every gRPC call it still has open, so that nothing of it keeps the
   * process alive, whether or not etcd answers.
   */
  closeClient(): void {
    this.client.close();
    this.#calls.cancelAll();
  }

  /**
   * An etcd request failed: returns the typed error a caller should see when retrying cannot fix it;
   * otherwise reports the failure to health and returns `undefined` (retry).
   */
  failed(error: unknown, operation: EtcdOperation): Error | undefined {
    const fatal = classifyEtcdError(error, operation, this.username);
    if (fatal === undefined) {
      if (error instanceof Error && castGrpcError(error) instanceof EtcdLeaseInvalidError) {
        this.health.up(); // etcd answered: it no longer knows the lease, a loss but no outage.
      } else {
        this.health.down(error);
      }
    }
    return fatal;
  }

  /** An etcd request succeeded: etcd answers. */
  succeeded(): void {
    this.health.up();
  }
}
