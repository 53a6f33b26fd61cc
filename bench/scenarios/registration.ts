import { Etcd3 } from 'etcd3';
import { filter, firstValueFrom, merge, scan, tap } from 'rxjs';
import { connectBench } from '../connectBench';
import type { Measurement, Scenario } from '../Scenario';
import { since } from '../stats';

/**
 * Time until N endpoints are written on one lease, all asked for at once. gsr: N `register()`
 * subscriptions (the first grants the lease). raw: grant a lease, then N lease-bound puts in parallel.
 */
export const registration: Scenario = {
  name: 'registration',
  title: 'Registration: N endpoints written on a lease, all at once',
  metrics: [{ key: 'total', label: 'time for all', unit: 'ms', reduce: 'median', maxRatio: 1.1 }],
  run: async (context, side, repetition): Promise<Measurement> => {
    const count = context.sizes.registrations;
    const prefix = `bench-registration-${side}-${repetition}/`;
    const address = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:80`;
    if (side === 'gsr') {
      const registry = await connectBench(context, prefix);
      const start = performance.now();
      let total = NaN;
      // All at once (merge subscribes to every registration immediately), until each has emitted.
      // The clock stops at the last emission, before firstValueFrom unsubscribes them all.
      await firstValueFrom(
        merge(
          ...Array.from({ length: count }, (_, i) =>
            registry.register({ service: 'svc', address: address(i) }),
          ),
        ).pipe(
          scan((written) => written + 1, 0),
          filter((written) => written === count),
          tap(() => (total = since(start))),
        ),
      );
      await registry.close(); // (firstValueFrom unsubscribed them: the lease is revoked)
      return { total };
    }
    const client = new Etcd3({ hosts: context.etcd.endpoints });
    const start = performance.now();
    const lease = client.lease(60);
    const id = await lease.grant();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        client
          .put(`${prefix}services/svc/${address(i)}`)
          .value('')
          .lease(id)
          .exec(),
      ),
    );
    const total = since(start);
    await lease.revoke();
    client.close();
    return { total };
  },
};
