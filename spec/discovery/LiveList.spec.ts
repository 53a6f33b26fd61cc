import { Discovery } from '../../lib/discovery/Discovery';
import type { Endpoint } from '../../lib/endpoint/Endpoint';
import { GsrKeyLayout } from '../../lib/keys/GsrKeyLayout';
import { simWorld, type SimWorldOptions } from '../sim/simWorld';
import { record } from '../support/observe';

const layout = new GsrKeyLayout('gsr/');
const key = (address: string): string => `gsr/services/web/${address}`;
const addresses = (list: readonly Endpoint[] | undefined): string[] =>
  (list ?? []).map((endpoint) => endpoint.address);

/** A discovery (the owner of live lists) over a simulated etcd. */
function setUp(options: SimWorldOptions & { readonly gracePeriodMs?: number } = {}) {
  const world = simWorld(options);
  const discovery = new Discovery(world.context, layout, options.gracePeriodMs ?? 0);
  const put = (address: string, value = '') =>
    world.etcd.putAll([{ key: key(address), value, lease: '0' }], 'someone');
  return { ...world, discovery, put };
}

describe('LiveList (on a simulated etcd)', () => {
  it('reads the prefix, then watches from that read: a put in between is neither lost nor doubled', async () => {
    const { discovery, put, run, clock, port } = setUp({ network: { maxDelayMs: 20 } });
    put('a:1');
    const list = record(discovery.asWritten$('web'));
    // The read is on its way; this put lands after it and before the watch starts.
    clock.at(25, () => put('b:1'));
    await run(1000);
    expect(list.values.map(addresses)).toEqual([['a:1'], ['a:1', 'b:1']]);
    expect(port.requests.get('range')).toBe(1);
  });

  it('applies the events of one transaction together: one list, with all of them', async () => {
    const { discovery, run, etcd } = setUp();
    const list = record(discovery.asWritten$('web'));
    await run(100);
    etcd.putAll(
      [
        { key: key('a:1'), value: '', lease: '0' },
        { key: key('b:1'), value: '', lease: '0' },
      ],
      'someone',
    );
    await run(100);
    expect(list.values.map(addresses)).toEqual([[], ['a:1', 'b:1']]);
  });

  it('resumes a broken watch after the last revision it received, without reading again', async () => {
    const { discovery, run, put, port } = setUp();
    const list = record(discovery.asWritten$('web'));
    await run(100);
    put('a:1');
    await run(100);
    port.breakStreams();
    put('b:1'); // While the watch is down.
    await run(5000);
    put('c:1');
    await run(100);
    expect(list.values.map(addresses)).toEqual([
      [],
      ['a:1'],
      ['a:1', 'b:1'],
      ['a:1', 'b:1', 'c:1'],
    ]);
    expect(port.requests.get('range')).toBe(1);
  });

  it('reads again when etcd compacted the history it would resume from', async () => {
    const { discovery, run, put, port, etcd } = setUp();
    const list = record(discovery.asWritten$('web'));
    await run(100);
    port.partition();
    put('a:1');
    // Compacted past the revision it would resume from (etcd keeps the compaction revision itself).
    etcd.putAll([{ key: 'elsewhere', value: '', lease: '0' }], 'B');
    etcd.compact(etcd.revision);
    await run(100);
    port.heal();
    await run(5000);
    expect(addresses(list.latest)).toEqual(['a:1']);
    expect(port.requests.get('range')).toBe(2);
    expect(list.error).toBeUndefined();
  });

  it('keeps its watch for the grace period after its last subscriber, then holds nothing', async () => {
    const { discovery, run, port } = setUp({ gracePeriodMs: 1000 });
    record(discovery.asWritten$('web')).subscription.unsubscribe();
    await run(500);
    expect(discovery.size).toBe(1);
    expect(port.openStreams).toBe(1);
    await run(600);
    expect(discovery.size).toBe(0);
    expect(port.openStreams).toBe(0);
  });

  describe('one-off reads behind a fence', () => {
    it('answer from the list once its watch reached etcd’s revision: a progress notification when idle', async () => {
      const { discovery, run, put, port, until, etcd } = setUp({ progressOrdered: true });
      const list = record(discovery.asWritten$('web'));
      await run(100);
      // Writes elsewhere move etcd's revision on; the watch of web hears nothing of them.
      etcd.putAll([{ key: 'elsewhere', value: '', lease: '0' }], 'someone');
      const answer = await until(discovery.asWritten('web'));
      expect(answer).toBe(list.latest);
      expect(port.requests.get('range')).toBe(1); // The stream's first read only.
      expect(port.requests.get('progress')).toBe(1);
      put('a:1');
      expect(addresses(await until(discovery.asWritten('web')))).toEqual(['a:1']);
    });

    it('see a write etcd confirmed that the watch has not delivered yet', async () => {
      const { discovery, run, put, until } = setUp({
        progressOrdered: true,
        network: { maxDelayMs: 50 },
      });
      record(discovery.asWritten$('web'));
      await run(200);
      put('a:1'); // Its event is on its way.
      expect(addresses(await until(discovery.asWritten('web')))).toEqual(['a:1']);
    });

    it('read etcd when progress is not answered (a proxy), and do without it for a while', async () => {
      const { discovery, run, port, until, etcd } = setUp({
        progressOrdered: true,
        answersProgress: false,
      });
      record(discovery.asWritten$('web'));
      await run(100);
      etcd.putAll([{ key: 'elsewhere', value: '', lease: '0' }], 'someone');
      expect(await until(discovery.asWritten('web'))).toEqual([]);
      expect(port.requests.get('range')).toBe(2);
      await until(discovery.asWritten('web'));
      expect(port.requests.get('progress')).toBe(1);
      expect(port.requests.get('delta')).toBe(1);
    });

    it('where progress is not ordered, count what changed since the list’s revision: nothing, the list', async () => {
      const { discovery, run, put, port, until } = setUp({ progressOrdered: false });
      const list = record(discovery.asWritten$('web'));
      await run(100);
      expect(await until(discovery.asWritten('web'))).toBe(list.latest);
      expect(port.requests.get('delta')).toBe(1);
      expect(port.requests.get('progress')).toBeUndefined();
      put('a:1');
      expect(addresses(await until(discovery.asWritten('web')))).toEqual(['a:1']);
      expect(port.requests.get('range')).toBe(2); // Something changed: read.
    });
  });

  it('tells observers what etcd holds at their key, byte for byte', async () => {
    const { discovery, run, put, etcd } = setUp();
    const subscription = discovery.asWritten$('web').subscribe();
    const seen: (string | undefined)[] = [];
    discovery.observe('web', key('a:1'), (entry) => seen.push(entry?.value.toString()));
    await run(100);
    put('a:1', '{"v":1}');
    put('b:1', '{"v":2}');
    etcd.deleteKey(key('a:1'), undefined, 'someone');
    // Not the same bytes, though the same text once decoded with replacement characters.
    etcd.putAll(
      [{ key: Buffer.from([...Buffer.from(key('a:')), 0xff, 0x31]), value: 'x', lease: '0' }],
      'someone',
    );
    await run(100);
    expect(seen).toEqual([undefined, '{"v":1}', undefined]);
    subscription.unsubscribe();
  });
});
