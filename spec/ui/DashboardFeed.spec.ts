import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { BehaviorSubject, of } from 'rxjs';
import type { EndpointChanges } from '../../lib/discovery/EndpointChanges';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { Registry } from '../../lib/registry/Registry';
import { DashboardFeed, MAX_HELD_BYTES } from '../../lib/ui/DashboardFeed';

/** A response whose socket never drains: a page that does not read. */
class StuckResponse extends EventEmitter {
  written = 0;
  ended = false;
  destroyed = false;
  readonly writableNeedDrain = true;
  write(text: string): boolean {
    this.written += text.length;
    return false;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

describe('DashboardFeed', () => {
  it('drops a page that does not read before it holds more than its bound', () => {
    // Every service has a large list: each one's event is held (only the latest of each would be).
    const big = (service: string): Endpoint[] =>
      Array.from({ length: 200 }, (_, i) => ({
        service,
        address: `10.0.${i >> 8}.${i & 255}:80`,
        metadata: { note: 'x'.repeat(600) },
      }));
    const registry = {
      health$: of({ connected: true, since: new Date(0) }),
      changes$: (service: string) =>
        new BehaviorSubject<EndpointChanges>({ added: big(service), removed: [], updated: [] }),
      freshness: () => ({ kind: 'live' }),
    } as unknown as Registry;
    const response = new StuckResponse();
    let ended = false;
    const names = Array.from({ length: 40 }, (_, i) => `service-${i}`);
    const feed = new DashboardFeed(
      registry,
      response as unknown as ServerResponse,
      of(names),
      () => (ended = true),
    );
    expect(response.destroyed).toBe(true);
    expect(response.ended).toBe(true);
    // What it held never went past the bound by more than one event.
    expect(response.written).toBeLessThan(MAX_HELD_BYTES);
    feed.end();
    response.emit('close');
    expect(ended).toBe(true);
  });
});
