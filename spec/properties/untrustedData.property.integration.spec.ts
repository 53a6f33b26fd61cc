import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { runCli } from '../../lib/cli/runCli';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { eventually, record } from '../support/observe';
import { propertyParameters } from '../support/propertyParameters';
import { closeTestRegistries, connectTest } from '../support/testRegistries';
import { useEtcd } from '../support/useEtcd';

/**
 * The oracle, written apart from the library: what a key's remainder must be for `endpoints$` to list
 * it, and the metadata a value must give. Any key, any bytes: everything else is skipped, never merged.
 */
const STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// eslint-disable-next-line no-control-regex
const UNLISTABLE = /[\s\u0000-\u001f\u007f-\u009f/]/;
// eslint-disable-next-line no-control-regex
const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/;
function listedAddress(rest: Uint8Array): string | undefined {
  let text: string;
  try {
    text = STRICT.decode(rest);
  } catch {
    return undefined;
  }
  const bad = text === '' || text === '.' || text === '..' || UNLISTABLE.test(text);
  return bad || rest.length > 512 ? undefined : text;
}
function expectedMetadata(value: Uint8Array): unknown {
  if (value.length === 0 || value.length > 65536) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(STRICT.decode(value));
  } catch {
    return undefined;
  }
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  return isObject && depthOf(parsed) <= 32 ? parsed : undefined;
}
/** How deep a parsed JSON value nests (an object or array is one level), without recursion. */
function depthOf(root: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item;
    if (typeof value === 'object' && value !== null) {
      deepest = Math.max(deepest, depth);
      Object.values(value).forEach((child) => stack.push([child, depth + 1]));
    }
  }
  return deepest;
}

/** A key's remainder after `<prefix>services/svc/`: the kinds of bytes others write. */
const remainder = fc
  .oneof(
    fc.constantFrom('10.0.0.1:80', '10.0.0.2:80', 'host.example:443', '[::1]:8080', 'é:1', '🎉:1'),
    fc.constantFrom(
      '',
      '.',
      '..',
      'a/b',
      '/x',
      'a b',
      'tab\there',
      'nl\nx',
      'esc\u001b[2J',
      'c1\u0085',
      '\u202eevil',
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
    fc.uint8Array({ minLength: 1, maxLength: 8 }), // often not UTF-8
    fc.constant('x'.repeat(513)),
  )
  .map((rest) => (typeof rest === 'string' ? Buffer.from(rest) : Buffer.from(rest)));

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** A value: what the Go gsr writes, metadata, and what hostile or careless writers leave. */
const value = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v))),
  fc
    .dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }))
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc.integer({ min: 30, max: 10_000 }).map((depth) => Buffer.from(`{"a":${nested(depth)}}`)),
  fc
    .integer({ min: 28, max: 36 })
    .map((depth) => Buffer.from('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))),
  fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.from(`{"x":"${'y'.repeat(70_000)}"}`)),
);

type Op = { readonly put: Buffer; readonly value: Buffer } | { readonly del: Buffer };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ put: remainder, value }) },
  { weight: 1, arbitrary: remainder.map((del) => ({ del })) },
);

const isSortedAndUnique = (list: readonly Endpoint[]): boolean =>
  list.every((e, i) => i === 0 || (list[i - 1] as Endpoint).address < e.address);

describe('hostile keys and values, written straight to etcd (property)', () => {
  const etcd = useEtcd();

  it('every stream keeps emitting sorted, duplicate-free lists of exactly the valid keys, and never errors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const { registry, prefix } = await connectTest(etcd.endpoints);
        const base = `${prefix}services/svc/`;
        try {
          const stream = record(registry.endpoints$('svc'));
          const names = record(registry.services$());
          for (const change of ops) {
            const key = Buffer.concat([
              Buffer.from(base),
              'put' in change ? change.put : change.del,
            ]);
            await ('put' in change
              ? etcd.raw.put(key).value(change.value)
              : etcd.raw.delete().key(key));
          }
          // etcd's own view of the valid keys.
          const kvs = (await etcd.raw.getAll().prefix(base).exec()).kvs;
          const truth = new Map<string, unknown>();
          for (const kv of kvs) {
            const address = listedAddress(kv.key.subarray(Buffer.byteLength(base)));
            if (address !== undefined) {
              truth.set(address, expectedMetadata(kv.value));
            }
          }
          const expected = [...truth.keys()].sort();
          await eventually(
            () => (stream.latest ?? []).map((e) => e.address).join('\n') === expected.join('\n'),
            5000,
            'the stream converged on etcd',
          );
          expect(stream.error).toBeUndefined();
          expect(names.error).toBeUndefined();
          expect(stream.values.every(isSortedAndUnique)).toBe(true);
          expect(
            stream.values.flat().every((e) => listedAddress(Buffer.from(e.address)) === e.address),
          ).toBe(true);
          for (const endpoint of stream.latest ?? []) {
            expect(endpoint.metadata).toEqual(truth.get(endpoint.address));
          }
          await eventually(
            () => (names.latest ?? []).join() === (expected.length > 0 ? 'svc' : ''),
            5000,
            'services$ converged',
          );
          // One-off lists read it the same way; the CLI prints one escaped line per endpoint.
          expect((await registry.endpoints('svc')).map((e) => e.address)).toEqual(expected);
          const stdout = new PassThrough();
          let printed = '';
          stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
          const code = await runCli(
            ['endpoints', 'svc'],
            {
              stdout,
              stderr: new PassThrough(),
              env: { GSR_ETCD_ENDPOINTS: etcd.endpoints.join(','), GSR_KEY_PREFIX: prefix },
              interrupted: () => new Promise(() => undefined),
            },
            'test',
          );
          expect(code).toBe(0);
          const lines = printed === '' ? [] : printed.slice(0, -1).split('\n');
          expect(lines).toHaveLength(expected.length);
          expect(lines.every((line) => !RAW_UNSAFE.test(line))).toBe(true);
        } finally {
          await closeTestRegistries();
        }
      }),
      propertyParameters(12),
    );
  });
});
