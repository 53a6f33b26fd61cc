import { InterceptingCall, type Interceptor, status } from '@grpc/grpc-js';
import type { RegistryMetrics } from '../../metrics/RegistryMetrics';
import type { ConnectionHealth } from '../ConnectionHealth';

/** `OK` → `ok`, `DEADLINE_EXCEEDED` → `deadline_exceeded`: the outcomes of etcd requests in metrics. */
const OUTCOMES = new Map(
  Object.entries(status)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, code]) => [code, name.toLowerCase()]),
);

/**
 * Every gRPC call a registry's etcd3 client has open, so that closing the registry can end them; and,
 * since every request passes here, where their durations are measured (for metrics, and for
 * health's p99).
 *
 * etcd3 closes its watch stream only once etcd answers the watches' cancellations, and half-closes its
 * lease keepalive stream; closing the client leaves open calls open. While etcd answers, they end in
 * milliseconds; when it does not (a paused or partitioned member), they kept the process alive until
 * gRPC's keepalive gave up, ~10 s after `close()` returned. Cancelling them ends them locally at once.
 * @internal
 */
export class CallTracker {
  readonly #calls = new Set<InterceptingCall>();
  readonly #metrics: RegistryMetrics;
  readonly #health: ConnectionHealth;

  constructor(metrics: RegistryMetrics, health: ConnectionHealth) {
    this.#metrics = metrics;
    this.#health = health;
  }

  /** A grpc-js client interceptor that records each call until it ends. */
  readonly interceptor: Interceptor = (options, nextCall) => {
    const method = options.method_definition;
    // A stream (watch, keepalive) lasts as long as it is needed: its duration says nothing.
    const unary = !method.requestStream && !method.responseStream;
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        const started = performance.now();
        next(metadata, {
          onReceiveStatus: (received, nextStatus) => {
            this.#calls.delete(call);
            if (unary) {
              const operation = method.path.slice(method.path.lastIndexOf('/') + 1);
              const outcome = OUTCOMES.get(received.code) ?? String(received.code);
              const ms = performance.now() - started;
              this.#metrics.requestDuration.record(
                ms / 1000,
                this.#metrics.requestAttributes(operation, outcome),
              );
              this.#health.requestEnded(ms);
            }
            nextStatus(received);
          },
        });
      },
    });
    this.#calls.add(call);
    return call;
  };

  /** Cancels every call still open. */
  cancelAll(): void {
    for (const call of [...this.#calls]) {
      call.cancelWithStatus(status.CANCELLED, 'the gsr registry is closed');
    }
    this.#calls.clear();
  }
}
