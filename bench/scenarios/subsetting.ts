import { BehaviorSubject } from 'rxjs';
import winston from 'winston';
import { Balancer, type Endpoint } from '../../lib';
import type { Measurement, Scenario, Side } from '../Scenario';

const quiet = winston.createLogger({ silent: true });
const CLIENTS = 100;
const SERVERS = 100;
const SIZE = 10;

const list = (service: string, count: number): Endpoint[] =>
  Array.from({ length: count }, (_, i) => ({ service, address: `10.0.${service.length}.${i}:80` }));

/**
 * Connections per server when 100 clients balance over 100 servers: each client's Balancer makes 1,000
 * picks and every server it picked counts as one connection. gsr subsets (size 10, each client's peers
 * being the 100 clients); the raw column is the same Balancer without subsetting, as every client does
 * today: C × S connections.
 */
export const subsetting: Scenario = {
  name: 'subset',
  title: 'connections per server: 100 clients x 100 servers, subset size 10 vs none',
  metrics: [
    { key: 'max', label: 'connections per server, most', unit: 'count', reduce: 'median' },
    { key: 'min', label: 'connections per server, fewest', unit: 'count', reduce: 'median' },
    { key: 'total', label: 'connections in all', unit: 'count', reduce: 'median' },
  ],
  repetitions: () => 1,
  run: (_context, side: Side): Promise<Measurement> => {
    const servers$ = new BehaviorSubject<readonly Endpoint[]>(list('api', SERVERS));
    const peers = list('web', CLIENTS);
    const peers$ = new BehaviorSubject<readonly Endpoint[]>(peers);
    const connections = new Map<string, number>();
    for (const client of peers) {
      const balancer = new Balancer(servers$, {
        strategy: 'random',
        logger: quiet,
        ...(side === 'gsr' && { subset: { size: SIZE, self: client.address, peers$ } }),
      });
      const picked = new Set<string>();
      for (let i = 0; i < 1000; i++) {
        picked.add(balancer.pick()?.address ?? 'none');
      }
      picked.forEach((server) => connections.set(server, (connections.get(server) ?? 0) + 1));
      balancer.close();
    }
    const counts = [...connections.values()];
    return Promise.resolve({
      max: Math.max(...counts),
      min: counts.length < SERVERS ? 0 : Math.min(...counts),
      total: counts.reduce((sum, n) => sum + n, 0),
    });
  },
};
