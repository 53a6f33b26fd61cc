import { BehaviorSubject, Subject } from 'rxjs';
import { Balancer } from '../../lib/balancing/Balancer';
import type { Endpoint } from '../../lib/endpoint/Endpoint';

const ep = (address: string): Endpoint => ({ service: 'api', address });

describe('Balancer', () => {
  it('picks synchronously from the latest list, round-robin', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a'), ep('b')]);
    const balancer = new Balancer(list$);
    expect([balancer.pick(), balancer.pick(), balancer.pick()].map((e) => e?.address)).toEqual([
      'a',
      'b',
      'a',
    ]);
    list$.next([ep('c')]);
    expect(balancer.pick()?.address).toBe('c');
    expect(balancer.endpoints).toEqual([ep('c')]);
    balancer.close();
  });

  it('returns undefined while the list is empty, or after the list failed', () => {
    const list$ = new Subject<readonly Endpoint[]>();
    const balancer = new Balancer(list$);
    expect(balancer.pick()).toBeUndefined();
    list$.next([ep('a')]);
    expect(balancer.pick()).toBeDefined();
    list$.error(new Error('permission denied'));
    expect(balancer.pick()).toBeUndefined();
  });

  it('unsubscribes when closed', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([ep('a')]);
    const balancer = new Balancer(list$);
    expect(list$.observed).toBe(true);
    balancer.close();
    expect(list$.observed).toBe(false);
    expect(balancer.pick()).toBeUndefined();
  });
});
