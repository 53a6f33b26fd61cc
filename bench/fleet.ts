/**
 * `npm run bench:fleet`: what a fleet costs the etcd server, directly and through etcd's gRPC proxy.
 * N registries (each with its own etcd client and connections, as N processes have), each registering
 * one endpoint and watching S services with `health$` subscribed; measured from the etcd server's own
 * metrics once they idle: watchers, leases, and requests per minute by kind.
 *
 *   npm run bench:fleet                 100 registries, 10 services each, 30 s idle
 *   npm run bench:fleet -- --quick      a smoke run
 */
import { Etcd3 } from 'etcd3';
import { firstValueFrom, type Subscription } from 'rxjs';
import { Registry } from '../lib';
import { EtcdCluster, EtcdGrpcProxy } from '../lib/testing';

interface Figures {
  readonly watchers: number;
  readonly leases: number;
  readonly keepalivesPerMinute: number;
  readonly otherRequestsPerMinute: number;
}

async function measure(
  etcd: EtcdCluster,
  endpoints: readonly string[],
  registries: number,
  services: number,
  idleSeconds: number,
  prefix: string,
): Promise<Figures> {
  const member = etcd.members[0];
  if (member === undefined) {
    throw new Error('no member');
  }
  const baseline = (await member.metrics()).get('etcd_debugging_mvcc_watcher_total') ?? 0;
  const opened: Registry[] = [];
  const subscriptions: Subscription[] = [];
  for (let i = 0; i < registries; i++) {
    const registry = await Registry.connect({
      etcdEndpoints: [...endpoints],
      keyPrefix: prefix,
      leaseSeconds: 15,
      watchGracePeriodMs: 0,
      logLevel: 0,
      env: {},
    });
    opened.push(registry);
    subscriptions.push(registry.health$.subscribe());
    subscriptions.push(
      registry
        .register({ service: `svc-${i % services}`, address: `10.0.${i >> 8}.${i & 255}:80` })
        .subscribe(),
    );
    for (let s = 0; s < services; s++) {
      subscriptions.push(registry.endpoints$(`svc-${s}`).subscribe());
    }
  }
  await Promise.all(
    opened.flatMap((registry) =>
      Array.from({ length: services }, (_, s) => firstValueFrom(registry.endpoints$(`svc-${s}`))),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 3000)); // Set-up requests have landed.
  const metrics = await member.metrics();
  // The proxy keeps a few watchers of its own, whoever uses it: count only the fleet's.
  const watchers = (metrics.get('etcd_debugging_mvcc_watcher_total') ?? NaN) - baseline;
  const client = new Etcd3({ hosts: etcd.endpoints });
  const leases = (await client.leaseClient.leaseLeases({})).leases.length;
  client.close();
  const before = await member.requestsByMethod();
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const after = await member.requestsByMethod();
  let keepalives = 0;
  let others = 0;
  for (const [method, count] of Object.entries(after)) {
    const delta = ((count - (before[method] ?? 0)) * 60) / idleSeconds;
    if (method === 'LeaseKeepAlive') {
      keepalives += delta;
    } else {
      others += delta;
    }
  }
  subscriptions.forEach((subscription) => subscription.unsubscribe());
  await Promise.all(opened.map((registry) => registry.close()));
  return { watchers, leases, keepalivesPerMinute: keepalives, otherRequestsPerMinute: others };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const registries = quick ? 4 : 100;
  const services = quick ? 3 : 10;
  const idleSeconds = quick ? 2 : 30;
  const etcd = await EtcdCluster.start();
  const proxy = await EtcdGrpcProxy.start({ endpoints: etcd.endpoints });
  try {
    console.log(
      `${registries} registries, each registering 1 endpoint (15 s lease) and watching ${services} services, health$ subscribed; ${idleSeconds} s idle\n`,
    );
    const rows: [string, Figures][] = [
      [
        'direct to etcd',
        await measure(etcd, etcd.endpoints, registries, services, idleSeconds, 'fleet-direct/'),
      ],
      [
        'through one gRPC proxy',
        await measure(etcd, [proxy.url], registries, services, idleSeconds, 'fleet-proxy/'),
      ],
    ];
    console.log(
      '| path | etcd watchers | etcd leases | keepalives per minute | other requests per minute |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [path, f] of rows) {
      console.log(
        `| ${path} | ${f.watchers} | ${f.leases} | ${f.keepalivesPerMinute.toFixed(0)} | ${f.otherRequestsPerMinute.toFixed(0)} |`,
      );
    }
  } finally {
    await proxy.close();
    await etcd.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
