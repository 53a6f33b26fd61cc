import { parseEtcdEndpoints } from '../../lib/config/parseEtcdEndpoints';

describe('parseEtcdEndpoints', () => {
  it.each([
    ['http://127.0.0.1:2379', ['http://127.0.0.1:2379']],
    ['10.0.0.1:4001', ['http://10.0.0.1:4001']],
    ['etcd-0.etcd', ['http://etcd-0.etcd:2379']],
    ['http://etcd', ['http://etcd:2379']],
    ['https://etcd', ['https://etcd:2379']],
    ['HTTP://Etcd:80', ['http://etcd:80']],
    [' a:1 ,  b ', ['http://a:1', 'http://b:2379']],
    ['[::1]:2380', ['http://[::1]:2380']],
    ['[::1]', ['http://[::1]:2379']],
  ])('normalises %j', (raw, expected) => {
    expect(parseEtcdEndpoints(raw)).toEqual(expected);
  });

  it('accepts an array', () => {
    expect(parseEtcdEndpoints(['a', 'https://b:1'])).toEqual(['http://a:2379', 'https://b:1']);
  });

  it('gives scheme-less entries the default scheme', () => {
    expect(parseEtcdEndpoints('a,http://b', 'https')).toEqual(['https://a:2379', 'http://b:2379']);
  });

  it.each([
    ['', /empty endpoint/],
    ['a,,b', /empty endpoint/],
    ['ftp://a', /scheme "ftp"/],
    ['unix:///var/run/etcd.sock', /scheme "unix"/],
    ['http://a:99999', /not a valid|port/],
    ['http://a:0', /port 0/],
    ['a:b', /invalid port|not a valid/],
    ['http://user:pw@a:1', /credentials/],
    ['http://a:1/v3', /path/],
    ['http://a:1?x=1', /path, query/],
    ['http://a:1/', /trailing slash/],
    ['exa mple:1', /not a valid/],
  ])('rejects %j', (raw, message) => {
    expect(() => parseEtcdEndpoints(raw)).toThrow(message);
  });

  it('rejects what is neither a string nor an array', () => {
    expect(() => parseEtcdEndpoints(42)).toThrow(/comma-separated string or an array/);
    expect(() => parseEtcdEndpoints([])).toThrow(/at least one/);
    expect(() => parseEtcdEndpoints([1])).toThrow(/to be a string/);
  });
});
