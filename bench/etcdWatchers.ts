import type { BenchContext } from './Scenario';

/** The watchers open on the bench's etcd member, from its metrics. */
export async function etcdWatchers(context: BenchContext): Promise<number> {
  return (
    (await context.etcd.members[0]?.metrics())?.get('etcd_debugging_mvcc_watcher_total') ?? NaN
  );
}

/** Resolves once etcd has no watcher open (cancellations land after a client lets go). */
export async function untilNoWatchers(context: BenchContext): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await etcdWatchers(context)) > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
