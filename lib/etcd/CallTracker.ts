import { InterceptingCall, type Interceptor, status } from '@grpc/grpc-js';

/**
 * Every gRPC call a registry's etcd3 client has open, so that closing the registry can end them.
 *
 * etcd3 closes its watch stream only once etcd answers the watches' cancellations, and half-closes its
 * lease keepalive stream; closing the client leaves open calls open. While etcd answers, they end in
 * milliseconds; when it does not (a paused or partitioned member), they kept the process alive until
 * gRPC's keepalive gave up, ~10 s after `close()` returned. Cancelling them ends them locally at once.
 * @internal
 */
export class CallTracker {
  readonly #calls = new Set<InterceptingCall>();

  /** A grpc-js client interceptor that records each call until it ends. */
  readonly interceptor: Interceptor = (options, nextCall) => {
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        next(metadata, {
          onReceiveStatus: (received, nextStatus) => {
            this.#calls.delete(call);
            nextStatus(received);
          },
        });
      },
    });
    this.#calls.add(call);
    return call;
  };

  /** How many calls are open. */
  get size(): number {
    return this.#calls.size;
  }

  /** Cancels every call still open. */
  cancelAll(): void {
    for (const call of [...this.#calls]) {
      call.cancelWithStatus(status.CANCELLED, 'the gsr registry is closed');
    }
    this.#calls.clear();
  }
}
