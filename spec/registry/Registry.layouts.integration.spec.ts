import type { Endpoint, Metadata } from '../../lib/endpoint/Endpoint';
import { ValidationError } from '../../lib/errors/ValidationError';
import type { ConnectOptions } from '../../lib/registry/Registry';
import { eventually, record } from '../support/observe';
import { connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/** How a layout lays an endpoint out in etcd, as another client (Go, or an operator) writes it. */
interface Layout {
  readonly name: string;
  readonly options: ConnectOptions;
  key(prefix: string, service: string, address: string): string;
  value(address: string, metadata?: Metadata): string;
}

const LAYOUTS: readonly Layout[] = [
  {
    name: 'gsr',
    options: {},
    key: (prefix, service, address) => `${prefix}services/${service}/${address}`,
    value: (_address, metadata) => (metadata === undefined ? '' : JSON.stringify(metadata)),
  },
  {
    name: 'etcd-naming',
    options: { keyLayout: 'etcd-naming' },
    key: (prefix, target, address) => `${prefix}${target}/${address}`,
    // What etcd's Go endpoints manager writes, with gsr's metadata as a JSON string.
    value: (address, metadata) =>
      JSON.stringify({
        Op: 0,
        Addr: address,
        Metadata: metadata === undefined ? null : JSON.stringify(metadata),
      }),
  },
];

const addresses = (list: readonly Endpoint[] | undefined) =>
  (list ?? []).map((e) => e.address).join();

// The same behaviour, the same specs, in both layouts.
describe.each(LAYOUTS)('the $name layout', (layout) => {
  const connect = (options: ConnectOptions = {}) =>
    connectTest(etcd.endpoints, { ...layout.options, ...options });

  const etcd = useEtcd();

  it('discovers endpoints another client wrote, with their metadata', async () => {
    const { registry, prefix } = await connect();
    await etcd.raw.put(layout.key(prefix, 'api', '10.0.0.2:80')).value(layout.value('10.0.0.2:80'));
    await etcd.raw
      .put(layout.key(prefix, 'api', '10.0.0.1:80'))
      .value(layout.value('10.0.0.1:80', { zone: 'a' }));
    expect(await registry.endpoints('api')).toEqual([
      { service: 'api', address: '10.0.0.1:80', metadata: { zone: 'a' } },
      { service: 'api', address: '10.0.0.2:80' },
    ]);
  });

  it('emits the list first even when empty, then only changes, sharing one watch', async () => {
    const { registry, prefix } = await connect();
    const watchers = async () =>
      (await etcd.members[0]?.metrics())?.get('etcd_debugging_mvcc_watcher_total') ?? NaN;
    const before = await watchers();
    const first = record(registry.endpoints$('api'));
    const second = record(registry.endpoints$('api'));
    await eventually(() => first.values.length === 1 && second.values.length === 1);
    expect(first.values).toEqual([[]]);
    const key = layout.key(prefix, 'api', 'a:1');
    // Each change waited for: events that arrive together are applied as one (a busy machine), and
    // this test is about what each change emits.
    const seen = (count: number) => eventually(() => first.values.length >= count);
    await etcd.raw.put(key).value(layout.value('a:1'));
    await seen(2);
    await etcd.raw.put(key).value(layout.value('a:1')); // the same value again: no emission
    await etcd.raw.put(key).value(layout.value('a:1', { v: 2 }));
    await seen(3);
    await etcd.raw.delete().key(key);
    await seen(4);
    // A last change as a barrier: an emission the writes above should not have caused comes before it.
    await etcd.raw.put(layout.key(prefix, 'api', 'b:1')).value(layout.value('b:1'));
    await eventually(() => addresses(first.latest) === 'b:1');
    expect(first.values).toEqual([
      [],
      [{ service: 'api', address: 'a:1' }],
      [{ service: 'api', address: 'a:1', metadata: { v: 2 } }],
      // Deleted without saying it was leaving, and the service would be empty: kept as the last resort.
      [{ service: 'api', address: 'a:1', metadata: { v: 2 }, state: 'lost' }],
      [{ service: 'api', address: 'b:1' }], // A live one beside it: it goes.
    ]);
    expect(second.values).toEqual(first.values);
    // The service's watch, and the registry's one watch of operators' overrides.
    expect(await watchers()).toBe(before + 2);
  });

  it('registers on a lease in its own format, and deletes the key when the registration ends', async () => {
    const { registry, prefix } = await connect();
    const key = layout.key(prefix, 'api', '10.0.0.7:80');
    const registration = record(
      registry.register({ service: 'api', address: '10.0.0.7:80', metadata: { zone: 'b' } }),
    );
    await eventually(() => registration.values.length === 1);
    expect(registration.latest).toMatchObject({ key, reregistered: false });
    expect(await etcd.raw.get(key).string()).toBe(layout.value('10.0.0.7:80', { zone: 'b' }));
    expect((await etcd.raw.get(key).exec()).kvs[0]?.lease).toBe(registration.latest?.leaseId);
    registration.subscription.unsubscribe();
    await eventually(async () => !(await etcd.raw.get(key).exists()), 5000, 'deleted');
  });

  it('keeps a live registration’s key: another registry coming and leaving, a hand delete, a revoked lease', async () => {
    const a = await connect({ leaseSeconds: 3 });
    const b = await connect({ keyPrefix: a.prefix });
    const key = layout.key(a.prefix, 'api', 'a:1');
    const held = record(a.registry.register({ service: 'api', address: 'a:1' }));
    await eventually(() => held.values.length === 1);
    const other = record(b.registry.register({ service: 'api', address: 'a:1' }));
    const witness = record(b.registry.register({ service: 'api', address: 'b:1' }));
    await eventually(() => witness.values.length === 1);
    other.subscription.unsubscribe(); // It never wrote: the key was a live registration's.
    expect(other.values).toEqual([]);
    expect((await etcd.raw.get(key).exec()).kvs[0]?.lease).toBe(held.latest?.leaseId);
    await etcd.raw.delete().key(key);
    await eventually(() => held.values.length === 2, 10_000, 'after a hand delete');
    await etcd.raw.leaseClient.leaseRevoke({ ID: held.latest?.leaseId ?? '' });
    await eventually(
      () => held.values.length >= 3 && held.latest?.leaseId !== held.values[0]?.leaseId,
      10_000,
      'on a new lease',
    );
    await eventually(
      async () => (await etcd.raw.get(key).exec()).kvs[0]?.lease === held.latest?.leaseId,
    );
    expect(held.values.slice(1).every((r) => r.reregistered)).toBe(true);
    expect(held.error).toBeUndefined();
  });

  it('unregisters: the key is gone once it resolves', async () => {
    const { registry, prefix } = await connect();
    const registration = record(registry.register({ service: 'api', address: 'a:1' }));
    await eventually(() => registration.values.length === 1);
    await registry.unregister({ service: 'api', address: 'a:1' });
    expect(await etcd.raw.get(layout.key(prefix, 'api', 'a:1')).exists()).toBe(false);
    expect(registration.completed).toBe(true);
  });

  it('skips or degrades a foreign value it cannot read, with one log line, never erroring', async () => {
    const { registry, prefix, logs } = await connect();
    await etcd.raw.put(layout.key(prefix, 'api', 'ok:1')).value(layout.value('ok:1'));
    await etcd.raw.put(layout.key(prefix, 'api', 'odd:1')).value('{"zone": [[[');
    const api = record(registry.endpoints$('api'));
    await eventually(() => api.latest !== undefined);
    expect(api.error).toBeUndefined();
    expect(addresses(api.latest)).toContain('ok:1');
    expect(logs.filter((line) => line.includes('odd:1'))).toHaveLength(1);
  });
});

describe("etcd's naming layout, where it differs", () => {
  const etcd = useEtcd();

  it('takes targets with /, and prod/greeter never lists prod/greeter-v2', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints, { keyLayout: 'etcd-naming' });
    const put = (key: string, address: string) =>
      etcd.raw
        .put(`${prefix}${key}`)
        .value(JSON.stringify({ Op: 0, Addr: address, Metadata: null }));
    await put('prod/greeter/10.0.0.1:1', '10.0.0.1:1');
    await put('prod/greeter-v2/10.0.0.2:1', '10.0.0.2:1');
    await put('prod/greeter/zone-a/node-3', '10.0.0.3:1'); // an id with /: listed, as Go lists it
    expect(addresses(await registry.endpoints('prod/greeter'))).toBe('10.0.0.1:1,10.0.0.3:1');
    const registration = record(
      registry.register({ service: 'prod/greeter', address: '10.0.0.4:1' }),
    );
    await eventually(() => registration.values.length === 1);
    expect(await etcd.raw.get(`${prefix}prod/greeter/10.0.0.4:1`).string()).toBe(
      '{"Op":0,"Addr":"10.0.0.4:1","Metadata":null}',
    );
  });

  it('names keys from the root of the keyspace by default, where Go’s endpoints manager does', async () => {
    const { registry } = await connectTest(etcd.endpoints, {
      keyLayout: 'etcd-naming',
      keyPrefix: undefined,
    });
    expect(registry.config.keyPrefix).toBe('');
    const target = `root-${process.pid}`;
    const registration = record(registry.register({ service: target, address: 'a:1' }));
    await eventually(() => registration.values.length === 1);
    expect(await etcd.raw.get(`${target}/a:1`).exists()).toBe(true);
  });

  it('makes services$() and services() a clear error: there is no services root', async () => {
    const { registry } = await connectTest(etcd.endpoints, { keyLayout: 'etcd-naming' });
    expect(record(registry.services$()).error).toBeInstanceOf(ValidationError);
    await expect(registry.services()).rejects.toThrow("etcd's naming layout has no services root");
  });

  it('refuses a target that is no target, naming it, before writing anything', async () => {
    const { registry } = await connectTest(etcd.endpoints, { keyLayout: 'etcd-naming' });
    for (const target of ['', '/greeter', 'greeter/', 'a//b', 'a b']) {
      const attempt = record(registry.register({ service: target, address: 'a:1' }));
      expect((attempt.error as ValidationError).field).toBe('target');
    }
  });
});
