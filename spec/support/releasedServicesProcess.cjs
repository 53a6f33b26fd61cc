// Run with `node --expose-gc`, against the compiled package: subscribes to thousands of service names
// once each, releases them, and prints the heap and etcd's watcher count before and after, as JSON.
const { Registry } = require('gsr');
const { firstValueFrom } = require('rxjs');

const heap = () => {
  global.gc();
  global.gc();
  return process.memoryUsage().heapUsed;
};
const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until etcd has cancelled every watch (etcd3 keeps a watcher until etcd confirms). */
async function watchesCancelled() {
  for (;;) {
    const response = await fetch(`${process.env.GSR_ETCD_ENDPOINTS}/metrics`);
    const text = await response.text();
    if (/^etcd_debugging_mvcc_watcher_total 0$/m.test(text)) {
      return;
    }
    await settle(50);
  }
}

async function round(registry, tag, count) {
  const subscriptions = Array.from({ length: count }, (_, i) =>
    registry.endpoints$(`${tag}-${i}`).subscribe(),
  );
  await Promise.all(
    Array.from({ length: count }, (_, i) => firstValueFrom(registry.endpoints$(`${tag}-${i}`))),
  );
  subscriptions.forEach((subscription) => subscription.unsubscribe());
}

(async () => {
  const names = Number(process.env.NAMES);
  const registry = await Registry.connect({ watchGracePeriodMs: 0, env: process.env });
  // Code, caches and pools reach their steady size first: that is a constant, not the point.
  for (let done = 0; done < 6000; done += 2000) {
    await round(registry, `warm-up${done}`, 2000);
  }
  await watchesCancelled();
  const before = heap();
  for (let done = 0; done < names; done += 2000) {
    await round(registry, `r${done}`, Math.min(2000, names - done));
  }
  await watchesCancelled();
  const after = heap();
  await registry.close();
  console.log(JSON.stringify({ before, after, names }));
})();
