import fc from 'fast-check';
import type { Metadata } from '../../lib/endpoint/Endpoint';
import { listedEndpoint, splitOwnState, withOwnState } from '../../lib/endpoint/ownState';

describe('a write stamped with its time (gsr.written)', () => {
  it('is taken out of the metadata again, beside the state', () => {
    const written = withOwnState({ zone: 'a' }, 'draining', 1_765_000_000_000);
    expect(written).toEqual({
      zone: 'a',
      'gsr.state': 'draining',
      'gsr.written': 1_765_000_000_000,
    });
    expect(listedEndpoint('web', 'a:1', written)).toEqual({
      endpoint: { service: 'web', address: 'a:1', metadata: { zone: 'a' }, state: 'draining' },
      writtenAt: 1_765_000_000_000,
    });
    // Nothing but the stamp: no metadata at all, as before it was stamped.
    expect(listedEndpoint('web', 'a:1', withOwnState(undefined, 'serving', 5))).toEqual({
      endpoint: { service: 'web', address: 'a:1' },
      writtenAt: 5,
    });
  });

  it.each<[string, unknown]>([
    ['a string', '1765000000000'],
    ['a negative number', -5],
    ['zero', 0],
    ['a fraction', 1.5],
    ['a number past 2^53', 2 ** 60],
    ['an object', { at: 5 }],
    ['null', null],
  ])('is no time when someone wrote %s there: not measured, never listed', (_what, stamp) => {
    const read = { zone: 'a', 'gsr.written': stamp } as Metadata;
    expect(splitOwnState(read)).toEqual({ metadata: { zone: 'a' } });
  });

  it('gives back any metadata and state it was written with (fast-check)', () => {
    const key = fc.string().filter((k) => !k.startsWith('gsr.') && k !== '__proto__');
    fc.assert(
      fc.property(
        fc.option(fc.dictionary(key, fc.jsonValue()), { nil: undefined }),
        fc.constantFrom('serving' as const, 'draining' as const, 'failing' as const),
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        (metadata, state, at) => {
          const split = splitOwnState(withOwnState(metadata, state, at));
          const empty = metadata === undefined || Object.keys(metadata).length === 0;
          expect(split.metadata).toEqual(empty ? undefined : metadata);
          expect(split.state).toBe(state === 'serving' ? undefined : state);
          expect(split.writtenAt).toBe(at);
        },
      ),
    );
  });
});
