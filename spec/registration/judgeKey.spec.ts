import { judgeKey } from '../../lib/registration/judgeKey';
import { KeyRecord } from '../../lib/registration/KeyRecord';

const entry = (lease: string, value = '') => ({
  key: Buffer.from('k'),
  value: Buffer.from(value),
  modRevision: 40n,
  version: 1,
  lease,
});
const mine = (lease: string) => lease === 'old' || lease === 'new';

describe('judgeKey', () => {
  it('judges only what was seen after the write was sent: an old store ran ahead of the new one', () => {
    const record = new KeyRecord('k', { service: 'web', address: 'a:1' });
    record.see(entry('old'), 40n); // Read from a store since replaced, at its revision 40.
    record.written = {
      value: '',
      state: 'serving',
      lease: 'new',
      revision: 2n,
      after: record.observed,
    };
    expect(judgeKey(record, mine)).toEqual({ kind: 'nothing' });
    expect(record.lost).toBe(false);
    record.see(entry('old'), 41n); // Seen after the write: back on an old lease of ours.
    expect(judgeKey(record, mine)).toMatchObject({ kind: 'rewrite' });
  });

  it('leaves a key to another live lease, said once, and writes it again once deleted', () => {
    const record = new KeyRecord('k', { service: 'web', address: 'a:1' });
    record.written = { value: '', state: 'serving', lease: 'new', revision: 2n, after: 0 };
    record.see(entry('theirs'), 3n);
    expect(judgeKey(record, mine)).toEqual({ kind: 'foreign', lease: 'theirs' });
    expect(judgeKey(record, mine)).toEqual({ kind: 'nothing' });
    record.see(undefined, 4n);
    expect(judgeKey(record, mine)).toEqual({ kind: 'rewrite', what: 'deleted' });
    expect(record.written).toBeUndefined();
  });
});
