/**
 * A service process for the specs: registers SPEC_SERVICE at SPEC_ADDRESS, prints "registered
 * <leaseId>" once it is, and on SIGTERM follows the README's shutdown recipe.
 * Run with `node --import tsx spec/support/registeringProcess.ts`.
 */
import { Registry } from '../../lib';

async function main(): Promise<void> {
  const registry = await Registry.connect();
  const subscription = registry
    .register({
      service: process.env.SPEC_SERVICE ?? 'child',
      address: process.env.SPEC_ADDRESS ?? 'child:1',
    })
    .subscribe((registration) => console.log(`registered ${registration.leaseId}`));

  // The README's recipe, verbatim (hence an async listener).
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  process.once('SIGTERM', async () => {
    subscription.unsubscribe();
    await registry.close();
    process.exit(0);
  });
}

void main();
