import { Observable } from 'rxjs';
import type { Clock } from './Clock';

/**
 * RxJS's `timer(periodMs, periodMs)` on a {@link Clock}: a count every `periodMs`, the first after one
 * period, until unsubscribed; its timer keeps the process alive as `timer`'s does. On the system clock
 * it is a timer; in a simulation, virtual time.
 * @internal
 */
export function ticks(clock: Clock, periodMs: number): Observable<number> {
  return new Observable<number>((subscriber) => {
    let count = 0;
    let cancel = clock.schedule(periodMs, function tick() {
      subscriber.next(count++);
      cancel = clock.schedule(periodMs, tick);
    });
    return () => cancel();
  });
}
