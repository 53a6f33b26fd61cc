import { unmeasuredLag } from '../../lib/etcd/EventLoopLag';
import { loadConfig } from '../../lib/config/loadConfig';
import { ConnectionHealth } from '../../lib/etcd/ConnectionHealth';
import { EtcdContext } from '../../lib/etcd/EtcdContext';
import { gsrMeter } from '../../lib/metrics/instruments';
import { createKeyLayout } from '../../lib/keys/createKeyLayout';
import { RegistryMetrics } from '../../lib/metrics/RegistryMetrics';
import { Registry } from '../../lib/registry/Registry';
import { testLogger } from '../support/testLogger';
import { SimClock } from './SimClock';
import { SimEtcd } from './SimEtcd';
import { type Network, SimPort } from './SimPort';

/** Options of {@link simWorld}. */
export interface SimWorldOptions {
  readonly seed?: number;
  readonly network?: Partial<Network>;
  readonly progressOrdered?: boolean;
  readonly answersProgress?: boolean;
}

/**
 * A simulated etcd, a client port on it and an etcd context over that port, for fast tests of the parts
 * a registry is built from: virtual time, no real I/O, every run the same.
 */
export function simWorld(options: SimWorldOptions = {}) {
  const clock = new SimClock(options.seed ?? 1);
  const etcd = new SimEtcd(clock);
  const { logger, lines } = testLogger();
  const health = new ConnectionHealth(logger, clock, { lag: unmeasuredLag });
  const port = new SimPort(
    etcd,
    'A',
    { maxDelayMs: 1, lostRequest: 0, lostAnswer: 0, timeoutMs: 1000, ...options.network },
    {
      progressOrdered: options.progressOrdered ?? true,
      answersProgress: options.answersProgress ?? true,
      health,
    },
  );
  const closing = new AbortController();
  const metrics = new RegistryMetrics(gsrMeter(undefined));
  const context = new EtcdContext(port, clock, logger, metrics, undefined, closing.signal);

  /** Runs everything due within the next `ms` of virtual time (all that is scheduled, by default). */
  const run = async (ms = Infinity): Promise<void> => {
    const until = clock.now() + ms;
    // What the caller just started (a microtask away) goes first, as in Node.
    await new Promise((resolve) => setImmediate(resolve));
    for (
      let next = clock.nextTime();
      next !== undefined && next <= until;
      next = clock.nextTime()
    ) {
      clock.step();
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (until !== Infinity) {
      clock.advanceTo(until);
    }
    await new Promise((resolve) => setImmediate(resolve));
  };

  /** Runs until `settled` settles (or `ms` of virtual time went by), and returns its outcome. */
  const until = async <T>(settled: Promise<T>, ms = 60_000): Promise<T> => {
    const state = { done: false };
    settled.then(
      () => (state.done = true),
      () => (state.done = true),
    );
    const deadline = clock.now() + ms;
    await new Promise((resolve) => setImmediate(resolve));
    while (!state.done && clock.now() <= deadline && clock.step()) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    return settled;
  };

  return { clock, etcd, port, context, health, closing, logs: lines, run, until };
}

/** A registry over a {@link simWorld}'s port, with gsr's layout under `sim/`. */
export function simRegistry(
  world: ReturnType<typeof simWorld>,
  options: { readonly leaseSeconds?: number; readonly gracePeriodMs?: number } = {},
): Registry {
  const config = loadConfig({ keyPrefix: 'sim/', leaseSeconds: options.leaseSeconds ?? 3 }, {});
  return new Registry({
    context: world.context,
    health: world.health,
    closing: world.closing,
    config,
    layout: createKeyLayout(config),
    gracePeriodMs: options.gracePeriodMs ?? 0,
  });
}
