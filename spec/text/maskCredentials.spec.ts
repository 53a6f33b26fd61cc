import fc from 'fast-check';
import { maskCredentials } from '../../lib/text/maskCredentials';

describe('maskCredentials', () => {
  it.each([
    ['http://root:s3cret@10.0.0.5:2379', 'http://root:****@10.0.0.5:2379'],
    [
      'endpoint "https://u:p%40ss@etcd:2379" carries credentials',
      'endpoint "https://u:****@etcd:2379" carries credentials',
    ],
    ['root:hunter2@etcd:2379,http://other:2379', 'root:****@etcd:2379,http://other:2379'],
    [
      "error: unknown option '--etcd-password=hunter2'",
      "error: unknown option '--etcd-password=****'",
    ],
    ['GSR_ETCD_PASSWORD=hunter2 gsr services', 'GSR_ETCD_PASSWORD=**** gsr services'],
    ['{"password":"hunter2","user":"root"}', '{"password":"****","user":"root"}'],
  ])('masks %s', (text, masked) => {
    expect(maskCredentials(text)).toBe(masked);
  });

  it.each([
    'http://10.0.0.5:2379',
    'gsr/services/web/10.0.0.7:8080',
    '[::1]:2379',
    'Invalid GSR_LEASE_SECONDS: expected a whole number of at least 1, got "abc"',
    'user@example.com',
  ])('leaves %s as it is', (text) => {
    expect(maskCredentials(text)).toBe(text);
  });

  it('never lets a URL password through, whatever surrounds it', () => {
    const password = fc.stringMatching(/^[A-Za-z0-9!$*+;~-]{4,20}$/);
    fc.assert(
      fc.property(fc.string(), password, fc.string(), (before, secret, after) => {
        const text = `${before} http://root:${secret}@etcd:2379 ${after}`;
        return !maskCredentials(text).includes(`root:${secret}@`);
      }),
    );
  });
});
