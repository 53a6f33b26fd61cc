import type { ServerResponse } from 'node:http';
import { asyncScheduler, type Observable, type Subscription, throttleTime } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { messageOf } from '../errors/messageOf';
import type { Health } from '../etcd/Health';
import type { Registry } from '../registry/Registry';
import { foldChanges } from '../discovery/foldChanges';

/** How often one service's list may be sent to a page: its first change at once, then at most this. */
const SERVICE_THROTTLE_MS = 200;
/** A comment line this often keeps proxies and browsers from closing an idle event stream. */
const KEEPALIVE_MS = 20_000;
/**
 * The most a page that does not read may make the server hold for it (the latest event of each key,
 * beyond what the socket buffers): past it the page is dropped, and its browser reconnects for the
 * whole state.
 */
export const MAX_HELD_BYTES = 4 * 1024 * 1024;

/**
 * One open page's event stream (Server-Sent Events): the service names, each service's endpoints and
 * etcd's health, from the registry's shared streams (a page costs etcd nothing a first page did not).
 *
 * Every event carries a whole state (a service's full list), so a page that reads slowly is sent only
 * the latest of each: while the socket is full, newer events replace older ones of the same key. Ending
 * the feed (the page closed) releases every subscription it took; the registry's grace period then
 * releases the watches no one else uses.
 * @internal
 */
export class DashboardFeed {
  readonly #registry: Registry;
  readonly #response: ServerResponse;
  readonly #services = new Map<string, Subscription>();
  readonly #subscriptions: Subscription[] = [];
  /** Events held while the socket is full, by key: only the latest of each is sent. */
  readonly #held = new Map<string, string>();
  #heldBytes = 0;
  readonly #keepalive: NodeJS.Timeout;
  #ended = false;

  constructor(
    registry: Registry,
    response: ServerResponse,
    names$: Observable<readonly string[]>,
    onEnd: () => void,
  ) {
    this.#registry = registry;
    this.#response = response;
    response.on('drain', () => this.#flush());
    response.on('close', () => {
      this.end();
      onEnd();
    });
    this.#keepalive = setInterval(() => this.#write(': keepalive\n\n'), KEEPALIVE_MS);
    this.#subscriptions.push(
      registry.health$.subscribe((health) =>
        this.#send('health', 'health', describeHealth(health)),
      ),
      names$.subscribe({
        next: (names) => this.#follow(names),
        error: (error: unknown) => this.#send('problem', 'problem', { message: messageOf(error) }),
      }),
    );
  }

  /** Stops the feed and ends the response. */
  end(): void {
    if (this.#ended) {
      return;
    }
    this.#ended = true;
    clearInterval(this.#keepalive);
    this.#subscriptions.forEach((subscription) => subscription.unsubscribe());
    this.#services.forEach((subscription) => subscription.unsubscribe());
    this.#services.clear();
    this.#held.clear();
    this.#heldBytes = 0;
    this.#response.end();
  }

  /** Subscribes to the services that appeared, lets go of those that left. */
  #follow(names: readonly string[]): void {
    const current = new Set(names);
    for (const [service, subscription] of this.#services) {
      if (!current.has(service)) {
        subscription.unsubscribe();
        this.#services.delete(service);
      }
    }
    // A list from disk says so, with when it was written: the page shows it while etcd is unreachable.
    const freshness = this.#registry.freshness(names);
    this.#send('services', 'services', {
      services: names,
      ...(freshness.kind === 'snapshot' && { snapshot: freshness.since.toISOString() }),
    });
    for (const service of names) {
      if (!this.#services.has(service)) {
        this.#services.set(service, this.#watch(service));
      }
    }
  }

  #watch(service: string): Subscription {
    const key = `endpoints ${service}`;
    // What changed, folded as it comes; the whole list (what an event carries) made once per throttle.
    return this.#registry
      .changes$(service)
      .pipe(
        foldChanges(),
        throttleTime(SERVICE_THROTTLE_MS, asyncScheduler, { leading: true, trailing: true }),
      )
      .subscribe({
        next: (list) => this.#send('endpoints', key, { service, endpoints: list().map(toShown) }),
        error: (error: unknown) =>
          this.#send('problem', key, { service, message: messageOf(error) }),
      });
  }

  #send(event: string, key: string, data: unknown): void {
    // JSON on one line: no raw line break can end the event early, whatever the data holds.
    const text = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    if (this.#response.writableNeedDrain) {
      this.#heldBytes += text.length - (this.#held.get(key)?.length ?? 0);
      this.#held.delete(key); // re-inserted last: events keep their order
      this.#held.set(key, text);
      if (this.#heldBytes > MAX_HELD_BYTES) {
        this.end();
        this.#response.destroy(); // What the socket buffers goes too.
      }
    } else {
      this.#write(text);
    }
  }

  #flush(): void {
    for (const [key, text] of this.#held) {
      this.#held.delete(key);
      this.#heldBytes -= text.length;
      if (!this.#write(text)) {
        return; // full again: the rest waits for the next drain
      }
    }
  }

  #write(text: string): boolean {
    return !this.#ended && this.#response.write(text);
  }
}

/** What the page shows of an endpoint: its address, its state when not serving, its metadata. */
function toShown(endpoint: Endpoint): {
  address: string;
  state?: string;
  reason?: string;
  metadata?: unknown;
} {
  return {
    address: endpoint.address,
    ...(endpoint.state !== undefined && { state: endpoint.state }),
    ...(endpoint.maintenance !== undefined && { reason: endpoint.maintenance.reason }),
    ...(endpoint.metadata !== undefined && { metadata: endpoint.metadata }),
  };
}

function describeHealth(health: Health): { connected: boolean; since: string; cause?: string } {
  return {
    connected: health.connected,
    since: health.since.toISOString(),
    ...(health.cause !== undefined && { cause: messageOf(health.cause) }),
  };
}
