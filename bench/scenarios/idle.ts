import { Etcd3 } from 'etcd3';
import { firstValueFrom } from 'rxjs';
import { connectBench } from '../connectBench';
import { rangeThenWatch } from '../rawClient';
import type { BenchContext, Measurement, Scenario, Side } from '../Scenario';

const SERVICES = 10;
const LEASE_SECONDS = 15;

/**
 * An idle process: one registration, ten watched services and, for gsr, `health$` subscribed. raw: a
 * lease kept alive by etcd3, one key on it, and a range get and a watcher per service. Both on a 15 s
 * lease (a keepalive every 5 s). Measured from etcd's own metrics while nothing happens: requests per
 * minute, keepalives apart from everything else.
 */
export const idle: Scenario = {
  name: 'idle',
  title: 'Idle: what a process with 1 registration and 10 watched services costs etcd',
  metrics: [
    { key: 'keepalives', label: 'lease keepalives per minute', unit: '/min', reduce: 'median' },
    { key: 'others', label: 'other requests per minute', unit: '/min', reduce: 'median' },
  ],
  repetitions: () => 1,
  run: async (context: BenchContext, side: Side, repetition: number): Promise<Measurement> => {
    const prefix = `bench-idle-${side}-${repetition}/`;
    const services = Array.from({ length: SERVICES }, (_, i) => `svc-${i}`);
    let stop: () => Promise<void>;
    if (side === 'gsr') {
      const registry = await connectBench(context, prefix, { leaseSeconds: LEASE_SECONDS });
      const health = registry.health$.subscribe();
      const registration = registry.register({ service: 'svc-0', address: 'a:1' }).subscribe();
      const lists = services.map((service) => registry.endpoints$(service).subscribe());
      await Promise.all(services.map((service) => firstValueFrom(registry.endpoints$(service))));
      stop = async () => {
        [health, registration, ...lists].forEach((subscription) => subscription.unsubscribe());
        await registry.close();
      };
    } else {
      const client = new Etcd3({ hosts: context.etcd.endpoints });
      const lease = client.lease(LEASE_SECONDS);
      await lease.put(`${prefix}services/svc-0/a:1`).value('');
      const watchers = await Promise.all(
        services.map(async (service) => {
          const servicePrefix = `${prefix}services/${service}/`;
          return (await rangeThenWatch(client, servicePrefix)).watcher;
        }),
      );
      stop = async () => {
        await Promise.all(watchers.map((watcher) => watcher.cancel()));
        await lease.revoke();
        client.close();
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 2000)); // Set-up requests have landed.
    const member = context.etcd.members[0];
    const before = (await member?.requestsByMethod()) ?? {};
    await new Promise((resolve) => setTimeout(resolve, context.sizes.idleSeconds * 1000));
    const after = (await member?.requestsByMethod()) ?? {};
    await stop();
    const perMinute = 60 / context.sizes.idleSeconds;
    let keepalives = 0;
    let others = 0;
    for (const [method, count] of Object.entries(after)) {
      const delta = (count - (before[method] ?? 0)) * perMinute;
      if (method === 'LeaseKeepAlive') {
        keepalives += delta;
      } else {
        others += delta;
      }
    }
    return { keepalives, others };
  },
  notes: (results) => [
    `goal: gsr's other requests = 0, its keepalives the same as raw's (here ${String(
      results.gsr[0]?.others,
    )}/min other, ${String(results.gsr[0]?.keepalives)} vs ${String(results.raw[0]?.keepalives)} keepalives/min)`,
  ],
};
