/**
 * A service process that churns: registers and deregisters SPEC_OPS times among SPEC_POOL
 * addresses of its own (`<SPEC_NAME>-<n>:80`, metadata `{ op }`), prints "done", then holds what it
 * has until SIGTERM, when it follows the README's recipe.
 * Run with `node --import tsx spec/support/churningProcess.ts`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Subscription } from 'rxjs';
import { Registry } from '../../lib';

async function main(): Promise<void> {
  const name = process.env.SPEC_NAME ?? 'churner';
  const pool = Number(process.env.SPEC_POOL ?? 10);
  const ops = Number(process.env.SPEC_OPS ?? 100);
  const registry = await Registry.connect();
  const held = new Map<string, Subscription>();
  for (let op = 0; op < ops; op++) {
    const address = `${name}-${Math.floor(Math.random() * pool)}:80`;
    const subscription = held.get(address);
    if (subscription === undefined) {
      held.set(
        address,
        registry.register({ service: 'churn', address, metadata: { op } }).subscribe(),
      );
    } else {
      subscription.unsubscribe();
      held.delete(address);
    }
    await sleep(Math.random() * 15);
  }
  console.log(`done holding ${held.size}`);

  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the README's recipe, verbatim
  process.once('SIGTERM', async () => {
    held.forEach((subscription) => subscription.unsubscribe());
    await registry.close();
    process.exit(0);
  });
}

void main();
