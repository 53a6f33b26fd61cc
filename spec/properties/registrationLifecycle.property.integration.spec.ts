import { Etcd3 } from 'etcd3';
import fc from 'fast-check';
import type { Subscription } from 'rxjs';
import type { Registry } from '../../lib/registry/Registry';
import { eventually } from '../support/observe';
import { propertyParameters } from '../support/propertyParameters';
import { closeTestRegistries, connectTest, uniquePrefix } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const ADDRESSES = ['a:1', 'b:1', 'c:1'] as const;
const METADATA = [undefined, { v: 1 }, { v: 2 }] as const;
const REGISTRIES = 3;

/** A live registration, as the model knows it. */
interface Live {
  readonly registry: number;
  readonly address: string;
  readonly value: string;
  readonly subscription: Subscription;
}

/** What the test holds: the registries (a closed one is replaced), and every live registration. */
interface World {
  readonly raw: Etcd3;
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly registries: Registry[];
  live: Live[];
}

const keyOf = (world: World, address: string) => `${world.prefix}services/svc/${address}`;

/**
 * The invariant, checked against etcd after every step: while at least one registration of an
 * endpoint is live anywhere, its key exists and holds the metadata of a live registration; once none
 * is, the key is gone.
 */
async function invariantHolds(world: World): Promise<void> {
  await eventually(
    async () => {
      const held = await world.raw.getAll().prefix(`${world.prefix}services/svc/`).strings();
      return ADDRESSES.every((address) => {
        const values = world.live.filter((l) => l.address === address).map((l) => l.value);
        const value = held[keyOf(world, address)];
        return values.length === 0
          ? value === undefined
          : value !== undefined && values.includes(value);
      });
    },
    8000,
    'the invariant',
  );
}

type Step = (world: World) => Promise<void>;

const register = (registry: number, address: string, metadata: (typeof METADATA)[number]): Step =>
  Object.assign(
    (world: World) => {
      const endpoint = { service: 'svc', address, ...(metadata && { metadata }) };
      const subscription = world.registries[registry]
        ?.register(endpoint)
        .subscribe() as Subscription;
      world.live.push({
        registry,
        address,
        value: metadata ? JSON.stringify(metadata) : '',
        subscription,
      });
      return Promise.resolve();
    },
    { toString: () => `register(${registry}, ${address}, ${JSON.stringify(metadata)})` },
  );

const unsubscribe = (index: number): Step =>
  Object.assign(
    (world: World) => {
      const live = world.live[index % Math.max(1, world.live.length)];
      if (live !== undefined) {
        live.subscription.unsubscribe();
        world.live = world.live.filter((l) => l !== live);
      }
      return Promise.resolve();
    },
    { toString: () => `unsubscribe(#${index})` },
  );

const unregister = (registry: number, address: string): Step =>
  Object.assign(
    async (world: World) => {
      await world.registries[registry]?.unregister({ service: 'svc', address });
      // Its own registrations end; the key is deleted even if another registry holds it, whose guard
      // then writes it again.
      world.live = world.live.filter((l) => l.registry !== registry || l.address !== address);
    },
    { toString: () => `unregister(${registry}, ${address})` },
  );

const close = (registry: number): Step =>
  Object.assign(
    async (world: World) => {
      await world.registries[registry]?.close();
      world.live = world.live.filter((l) => l.registry !== registry);
      world.registries[registry] = (
        await connectTest(world.endpoints, { keyPrefix: world.prefix })
      ).registry;
    },
    { toString: () => `close(${registry}) and connect again` },
  );

const handDelete = (address: string): Step =>
  Object.assign(
    async (world: World) => {
      await world.raw.delete().key(keyOf(world, address));
    },
    { toString: () => `etcdctl del ${address}` },
  );

const pause = (ms: number): Step =>
  Object.assign(() => new Promise<void>((resolve) => setTimeout(resolve, ms)), {
    toString: () => `sleep ${ms}ms`,
  });

const registry = fc.integer({ min: 0, max: REGISTRIES - 1 });
const address = fc.constantFrom(...ADDRESSES);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(registry, address, fc.constantFrom(...METADATA))
      .map(([r, a, m]) => register(r, a, m)),
  },
  { weight: 3, arbitrary: fc.nat(20).map(unsubscribe) },
  { weight: 1, arbitrary: fc.tuple(registry, address).map(([r, a]) => unregister(r, a)) },
  { weight: 1, arbitrary: registry.map(close) },
  { weight: 1, arbitrary: address.map(handDelete) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }).map(pause) },
);

describe('registration lifecycles across three registries (property)', () => {
  const etcd = useEtcd();

  it('keeps the key of every endpoint with a live registration, and only those, after every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(step, fc.boolean()), { minLength: 1, maxLength: 12 }),
        async (steps) => {
          const prefix = uniquePrefix();
          const world: World = {
            raw: etcd.raw,
            endpoints: etcd.endpoints,
            prefix,
            registries: [],
            live: [],
          };
          try {
            for (let i = 0; i < REGISTRIES; i++) {
              world.registries.push(
                (await connectTest(etcd.endpoints, { keyPrefix: prefix })).registry,
              );
            }
            for (const [run, checkNow] of steps) {
              await run(world);
              // Sometimes the next step comes at once, before anything settled.
              if (checkNow) {
                await invariantHolds(world);
              }
            }
            await invariantHolds(world);
          } finally {
            world.live.forEach((l) => l.subscription.unsubscribe());
            await closeTestRegistries();
          }
        },
      ),
      propertyParameters(8),
    );
  });
});
