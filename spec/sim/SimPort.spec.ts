import { describePortContract } from '../support/portContract';
import { simWorld } from './simWorld';

describePortContract('the simulated etcd', () => {
  const world = simWorld({ network: { maxDelayMs: 5 } });
  return Promise.resolve({
    port: world.port,
    prefix: 'contract/',
    until: async (check, what) => {
      for (let i = 0; i < 10_000 && !check(); i++) {
        await world.run(10);
      }
      if (!check()) {
        throw new Error(`${what} did not happen`);
      }
    },
    settle: (promise) => world.until(promise),
    compact: async (revision) => {
      world.etcd.compact(revision);
      await Promise.resolve();
    },
    now: () => world.clock.now(),
    restart: async (whileDown) => {
      world.port.partition();
      world.etcd.stop();
      await whileDown();
      world.etcd.electLeader();
      world.port.heal();
    },
    holdAnswers: (held) => world.port.holdAnswers(held),
    close: async () => {
      world.port.close();
      await Promise.resolve();
    },
  });
});
