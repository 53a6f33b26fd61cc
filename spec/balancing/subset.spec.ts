import { BehaviorSubject, EMPTY, NEVER } from 'rxjs';
import { aperture, placeAmong } from '../../lib/balancing/aperture';
import { Balancer } from '../../lib/balancing/Balancer';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import type { EndpointState } from '../../lib/endpoint/EndpointState';
import { isNoEndpointError } from '../../lib/errors/NoEndpointError';
import { testLogger } from '../support/testLogger';

const address = (prefix: string, i: number) => `${prefix}-${String(i).padStart(3, '0')}:80`;
const servers = (count: number) => Array.from({ length: count }, (_, i) => address('s', i));
const clients = (count: number) => Array.from({ length: count }, (_, i) => address('c', i));
const ep = (service: string, at: string, state?: EndpointState): Endpoint =>
  state === undefined ? { service, address: at } : { service, address: at, state };

/** How many clients have each server in their subset, with 100 clients, `m` servers, size 10. */
function clientsPerServer(m: number, n = 100, size = 10): Map<string, number> {
  const counts = new Map<string, number>(servers(m).map((s) => [s, 0]));
  for (let i = 0; i < n; i++) {
    for (const server of aperture(servers(m), i, n, size).keys()) {
      counts.set(server, (counts.get(server) ?? 0) + 1);
    }
  }
  return counts;
}

describe('deterministic subsetting (the aperture)', () => {
  it('puts every server in the subset of 10 ± 1 of 100 clients, at size 10 over 100 servers', () => {
    for (const m of [100, 97, 130]) {
      const expected = (100 * 10) / m;
      for (const count of clientsPerServer(m).values()) {
        expect(count).toBeGreaterThanOrEqual(Math.floor(expected));
        expect(count).toBeLessThanOrEqual(Math.ceil(expected) + 1);
      }
    }
  });

  it('gives every server the same share of load: the weights of its arcs add up evenly, to one step of a client', () => {
    const m = 37;
    const load = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      for (const [server, factor] of aperture(servers(m), i, 100, 10)) {
        load.set(server, (load.get(server) ?? 0) + factor);
      }
    }
    // Even to within one client's step (1/100 of a server's arc here): 0.04 %.
    for (const share of load.values()) {
      expect(Math.abs(share - (100 * 10) / m)).toBeLessThanOrEqual(0.011);
    }
  });

  it('moves a small fraction of assignments when a server or a client comes or goes', () => {
    const pairs = (m: number, n: number) => {
      const all = new Set<string>();
      const list = servers(m);
      for (let i = 0; i < n; i++) {
        for (const server of aperture(list, i, n, 10).keys()) all.add(`c${i}>${server}`);
      }
      return all;
    };
    const moved = (a: Set<string>, b: Set<string>) =>
      [...a].filter((pair) => !b.has(pair)).length / a.size;
    expect(moved(pairs(100, 100), pairs(101, 100))).toBeLessThan(0.25);
    expect(moved(pairs(100, 100), pairs(99, 100))).toBeLessThan(0.25);
    expect(moved(pairs(100, 100), pairs(100, 101))).toBeLessThan(0.25);
  });

  it('places a client by address among its peers, and one not listed yet where it would go', () => {
    expect(placeAmong(['b:1', 'a:1', 'c:1'], 'b:1')).toEqual({ index: 1, clients: 3 });
    expect(placeAmong(['a:1', 'c:1'], 'b:1')).toEqual({ index: 1, clients: 3 });
    expect(placeAmong([], 'b:1')).toEqual({ index: 0, clients: 1 });
  });

  it('makes each of 100 balancers over 100 servers call 10 or 11 of them, and each server hear from 10 ± 1', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>(servers(100).map((s) => ep('api', s)));
    const peers$ = new BehaviorSubject<readonly Endpoint[]>(clients(100).map((c) => ep('web', c)));
    const heard = new Map<string, Set<string>>();
    for (const self of clients(100)) {
      const balancer = new Balancer(list$, {
        subset: { size: 10, self, peers$ },
        strategy: 'random',
        logger: testLogger().logger,
      });
      const called = new Set<string>();
      for (let i = 0; i < 400; i++) called.add(balancer.pick()?.address ?? 'none');
      expect(called.size).toBeGreaterThanOrEqual(10);
      expect(called.size).toBeLessThanOrEqual(11);
      for (const server of called) {
        heard.set(server, (heard.get(server) ?? new Set()).add(self));
      }
      balancer.close();
    }
    expect(heard.size).toBe(100);
    for (const from of heard.values()) {
      expect(from.size).toBeGreaterThanOrEqual(9);
      expect(from.size).toBeLessThanOrEqual(11);
    }
  });

  it('follows the lists: a server that drains leaves the subsets, and the subset refills from serving ones', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>(servers(4).map((s) => ep('api', s)));
    const peers$ = new BehaviorSubject<readonly Endpoint[]>([ep('web', 'c-000:80')]);
    const balancer = new Balancer(list$, {
      subset: { size: 2, self: 'c-000:80', peers$ },
      logger: testLogger().logger,
    });
    expect(balancer.endpoints.map((e) => e.address)).toEqual(['s-000:80', 's-001:80']);
    list$.next([
      ep('api', 's-000:80', 'draining'),
      ...servers(4)
        .slice(1)
        .map((s) => ep('api', s)),
    ]);
    expect(balancer.endpoints.map((e) => e.address)).toEqual(['s-001:80', 's-002:80']);
    peers$.next([ep('web', 'c-000:80'), ep('web', 'c-001:80')]);
    expect(balancer.endpoints.map((e) => e.address).length).toBeGreaterThanOrEqual(2);
    balancer.close();
  });

  it('goes to every endpoint, saying so once, when peers$ completes without giving peers', async () => {
    const { logger, lines } = testLogger();
    const list$ = new BehaviorSubject<readonly Endpoint[]>(servers(3).map((s) => ep('api', s)));
    const balancer = new Balancer(list$, {
      subset: { size: 1, self: 'c-000:80', peers$: EMPTY },
      logger,
    });
    expect(balancer.endpoints).toHaveLength(3);
    await expect(balancer.call((endpoint) => Promise.resolve(endpoint.address))).resolves.toMatch(
      /^s-/,
    );
    list$.next(servers(4).map((s) => ep('api', s)));
    expect(balancer.endpoints).toHaveLength(4);
    expect(lines.filter((line) => line.includes('subset.peers$ completed'))).toHaveLength(1);
    balancer.close();
  });

  it('says what calls wait for while peers$ has given no peers', async () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>(servers(3).map((s) => ep('api', s)));
    const balancer = new Balancer(list$, {
      subset: { size: 1, self: 'c-000:80', peers$: NEVER },
      timeout: 20,
      logger: testLogger().logger,
    });
    const error: unknown = await balancer
      .call(() => Promise.resolve('never'))
      .catch((e: unknown) => e);
    expect(isNoEndpointError(error)).toBe(true);
    expect((error as Error).message).toContain(
      "it waited for subset.peers$ to give this client's peers (it has given none yet)",
    );
    balancer.close();
  });

  it('refuses subset options it cannot use, naming them', () => {
    const list$ = new BehaviorSubject<readonly Endpoint[]>([]);
    const peers$ = new BehaviorSubject<readonly Endpoint[]>([]);
    expect(() => new Balancer(list$, { subset: { size: 0, self: 'a:1', peers$ } })).toThrow(
      /subset\.size/,
    );
    expect(() => new Balancer(list$, { subset: { size: 2, self: '', peers$ } })).toThrow(
      /subset\.self/,
    );
    expect(
      () => new Balancer(list$, { subset: { size: 2, self: 'a:1', peers$: [] as never } }),
    ).toThrow(/subset\.peers\$/);
  });
});
