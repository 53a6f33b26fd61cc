import { BehaviorSubject, Subject } from 'rxjs';
import { latestValues } from '../../lib/registry/latestValues';
import { simRegistry, simWorld } from '../sim/simWorld';

describe('latestValues (the for-await form of the streams)', () => {
  it('gives the latest value not yet seen: a slow loop skips states, never repeats one', async () => {
    const source$ = new Subject<number>();
    const values = latestValues(source$);
    const first = values.next();
    source$.next(1);
    expect(await first).toEqual({ done: false, value: 1 });
    source$.next(2);
    source$.next(3); // The loop was busy: 2 is skipped.
    expect(await values.next()).toEqual({ done: false, value: 3 });
    const waiting = values.next();
    source$.next(4);
    expect(await waiting).toEqual({ done: false, value: 4 });
  });

  it('takes its subscription on the first step, and releases it when the loop ends', async () => {
    const source$ = new BehaviorSubject<number>(7);
    const values = latestValues(source$);
    expect(source$.observed).toBe(false);
    for await (const value of values) {
      expect(value).toBe(7);
      expect(source$.observed).toBe(true);
      break;
    }
    expect(source$.observed).toBe(false);
  });

  it('throws what the stream errors with, and ends when it completes', async () => {
    const failing$ = new Subject<number>();
    const failing = latestValues(failing$);
    const step = failing.next();
    failing$.error(new Error('denied'));
    await expect(step).rejects.toThrow('denied');
    const ending$ = new Subject<number>();
    const ending = latestValues(ending$);
    const last = ending.next();
    ending$.complete();
    expect(await last).toEqual({ done: true, value: undefined });
  });

  it('is how registry.watch() reads a service', async () => {
    const world = simWorld();
    const registry = simRegistry(world);
    world.etcd.putAll([{ key: 'sim/services/web/a:1', value: '', lease: '0' }], 'someone');
    const seen: string[][] = [];
    const loop = (async () => {
      for await (const endpoints of registry.watch('web')) {
        seen.push(endpoints.map((e) => e.address));
        if (endpoints.length === 2) {
          break;
        }
      }
    })();
    await world.run(100);
    world.etcd.putAll([{ key: 'sim/services/web/b:1', value: '', lease: '0' }], 'someone');
    await world.until(loop);
    expect(seen).toEqual([['a:1'], ['a:1', 'b:1']]);
  });
});
