import { isEtcdRefusedError } from '../../lib/errors/EtcdRefusedError';
import { ValidationError } from '../../lib/errors/ValidationError';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { EtcdCluster } from '../../lib/testing/EtcdCluster';
import { eventually, record } from '../support/observe';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

const addresses = (list: readonly Endpoint[] | undefined): string[] =>
  (list ?? []).map((e) => e.address);

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Everything read from etcd was written by someone else: any key, any bytes, any size, any depth. */
describe('what etcd hands a registry is untrusted', () => {
  const etcd = useEtcd();

  it('lists an endpoint whose value is JSON nested 5,000 deep without metadata, and never errors', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    await etcd.raw.put(`${prefix}services/web/good:1`).value('{"zone":"a"}');
    const early = record(registry.endpoints$('web'));
    await eventually(() => early.latest?.length === 1);
    const deep = '['.repeat(5000) + ']'.repeat(5000); // 10 KB
    await etcd.raw.put(`${prefix}services/web/deep:1`).value(deep);
    await eventually(() => early.latest?.length === 2);
    expect(early.latest).toEqual([
      { service: 'web', address: 'deep:1' },
      { service: 'web', address: 'good:1', metadata: { zone: 'a' } },
    ]);
    // New subscribers, one-off lists and a fresh range read it the same way.
    const late = record(registry.endpoints$('web'));
    expect(addresses(late.latest)).toEqual(['deep:1', 'good:1']);
    expect(addresses(await registry.endpoints('web'))).toEqual(['deep:1', 'good:1']);
    const { registry: fresh } = await connectTest(etcd.endpoints, { keyPrefix: prefix });
    expect(addresses(await fresh.endpoints('web'))).toEqual(['deep:1', 'good:1']);
    expect([early.error, late.error]).toEqual([undefined, undefined]);
    const warnings = logs.filter((line) => line.includes('deep:1'));
    expect(warnings).toEqual([expect.stringContaining('nests deeper than 32 levels') as string]);
  });

  it('skips keys that are not UTF-8 or hold control characters, never merging two keys into one', async () => {
    const { registry, prefix, logs } = await connectTest(etcd.endpoints);
    const key = (...bytes: (string | number[])[]) =>
      Buffer.concat([
        Buffer.from(`${prefix}services/web/`),
        ...bytes.map((b) => (typeof b === 'string' ? Buffer.from(b) : Buffer.from(b))),
      ]);
    // Lossy decoding would turn both into "a\ufffd", and listing one and deleting the other would drop
    // an endpoint etcd still holds.
    await etcd.raw.put(key('a', [0xff])).value('');
    await etcd.raw.put(key('a', [0xfe])).value('');
    await etcd.raw.put(key('line\nbreak:1')).value('');
    await etcd.raw.put(key('esc\u001b[2J:1')).value('');
    await etcd.raw.put(key('ok:1')).value('');
    const web = record(registry.endpoints$('web'));
    await eventually(() => web.latest !== undefined);
    expect(addresses(web.latest)).toEqual(['ok:1']);
    await etcd.raw.delete().key(key('a', [0xfe]));
    await etcd.raw.put(key('ok:2')).value('');
    await eventually(() => web.latest?.length === 2);
    expect(addresses(web.latest)).toEqual(['ok:1', 'ok:2']);
    expect(addresses(await registry.endpoints('web'))).toEqual(['ok:1', 'ok:2']);
    const skipped = logs.filter((line) => line.includes('skipping malformed key'));
    expect(skipped).toHaveLength(4);
    expect(skipped.join('\n')).toContain(`${prefix}services/web/a\\xff": it is not valid UTF-8`);
    expect(skipped.join('\n')).toContain('line\\x0abreak:1');
    expect(skipped.every((line) => !RAW_CONTROL.test(line))).toBe(true);
    expect(web.error).toBeUndefined();
  });

  it('skips keys with extra or empty segments, and the prefix itself', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    for (const rest of ['', 'a/b', '/x', 'a/', 'ok:1']) {
      await etcd.raw.put(`${prefix}services/web/${rest}`).value('');
    }
    await etcd.raw.put(`${prefix}services/web`).value('');
    const names = record(registry.services$());
    const web = record(registry.endpoints$('web'));
    await eventually(() => web.latest !== undefined && names.latest !== undefined);
    expect(addresses(web.latest)).toEqual(['ok:1']);
    expect(names.latest).toEqual(['web']);
  });

  it('refuses lone surrogates: two addresses that would become one key are both rejected', async () => {
    const { registry, prefix } = await connectTest(etcd.endpoints);
    for (const address of ['10.0.0.1:80\ud800', '10.0.0.1:80\udbff']) {
      const attempt = record(registry.register({ service: 'web', address }));
      expect(attempt.error).toBeInstanceOf(ValidationError);
      expect((attempt.error as ValidationError).message).toContain('well-formed Unicode');
    }
    expect(await etcd.raw.getAll().prefix(prefix).keys()).toEqual([]);
  });

  it.each([
    [{ service: 'web', address: `${'a'.repeat(600)}:80` }, 'address', 'at most 512 bytes'],
    [
      { service: 'web', address: 'a:1', metadata: { blob: 'x'.repeat(70_000) } },
      'metadata',
      'at most 65536',
    ],
    [
      {
        service: 'web',
        address: 'a:1',
        metadata: JSON.parse('{"a":'.repeat(5000) + '1' + '}'.repeat(5000)) as Record<
          string,
          unknown
        >,
      },
      'metadata',
      'nests deeper than 32 levels',
    ],
  ])(
    'refuses an endpoint too large or too deep before writing: %#',
    async (endpoint, field, limit) => {
      const { registry, prefix } = await connectTest(etcd.endpoints);
      const attempt = record(registry.register(endpoint));
      expect(attempt.error).toBeInstanceOf(ValidationError);
      expect((attempt.error as ValidationError).field).toBe(field);
      expect((attempt.error as ValidationError).message).toContain(limit);
      expect((attempt.error as ValidationError).message.length).toBeLessThan(400);
      expect(await etcd.raw.getAll().prefix(prefix).keys()).toEqual([]);
    },
  );

  it('never retries a request etcd refuses as too large, and stays healthy meanwhile', async () => {
    const small = await EtcdCluster.start({ args: ['--max-request-bytes', '1024'] });
    try {
      const { registry, logs } = await connectTest(small.endpoints);
      const health = record(registry.health$);
      const big = record(
        registry.register({ service: 'web', address: 'a:1', metadata: { blob: 'x'.repeat(4000) } }),
      );
      await eventually(() => big.error !== undefined, 5000, 'refused');
      expect(isEtcdRefusedError(big.error)).toBe(true);
      expect((big.error as Error).message).toContain('request is too large');
      expect(health.values.every((h) => h.connected)).toBe(true);
      // The small one still registers, and no log line carries the 4 KB value.
      const ok = record(registry.register({ service: 'web', address: 'b:1' }));
      await eventually(() => ok.values.length === 1);
      expect(logs.every((line) => !line.includes('x'.repeat(200)))).toBe(true);
    } finally {
      await closeTestRegistries();
      await small.close();
    }
  });
});
