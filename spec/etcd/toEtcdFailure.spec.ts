import { status } from '@grpc/grpc-js';
import { EtcdLeaseInvalidError, GRPCUnavailableError } from 'etcd3';
import { EtcdFailure } from '../../lib/etcd/EtcdFailure';
import { toEtcdFailure } from '../../lib/etcd/etcd3/toEtcdFailure';

/** An error as grpc-js hands it over: a plain Error with a numeric code. */
const grpcError = (code: number, message: string): Error =>
  Object.assign(new Error(`${code} ${status[code] ?? ''}: ${message}`), { code });

const kindOf = (error: unknown): string | undefined => {
  const failure = toEtcdFailure(error);
  return failure instanceof EtcdFailure ? failure.kind : undefined;
};

describe('toEtcdFailure (the etcd3 adapter)', () => {
  it.each([
    ['an unreachable member', grpcError(status.UNAVAILABLE, 'No connection established')],
    ['rate limiting', grpcError(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests')],
    [
      // What a stream reports when etcd's grpc-proxy closes a connection that pings too often.
      'a connection closed with ENHANCE_YOUR_CALM',
      grpcError(status.RESOURCE_EXHAUSTED, 'Bandwidth exhausted or memory limit exceeded'),
    ],
    [
      'a compacted revision',
      grpcError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
    ],
    ['a typed unavailable error', new GRPCUnavailableError('down')],
  ])('calls %s unavailable', (_what, error) => {
    expect(kindOf(error)).toBe('unavailable');
  });

  it('calls etcd out of space no-space, not a refusal: it passes once an operator frees space', () => {
    expect(
      kindOf(grpcError(status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded')),
    ).toBe('no-space');
  });

  it('calls a missed deadline late: no answer in time, which alone proves no loss', () => {
    expect(kindOf(grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded after 1.001s'))).toBe(
      'late',
    );
  });

  it.each([
    [
      'a request over etcd’s size limit',
      grpcError(status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
    ],
    [
      'a message over gRPC’s size limit',
      grpcError(
        status.RESOURCE_EXHAUSTED,
        'Received message larger than max (2097161 vs. 2097152)',
      ),
    ],
    [
      'a lease TTL over etcd’s maximum',
      grpcError(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
    ],
  ])('calls %s invalid', (_what, error) => {
    expect(kindOf(error)).toBe('invalid');
  });

  it('tells leases, credentials, permissions and tokens apart', () => {
    expect(kindOf(new EtcdLeaseInvalidError('123'))).toBe('lease-not-found');
    expect(kindOf(grpcError(status.NOT_FOUND, 'etcdserver: requested lease not found'))).toBe(
      'lease-not-found',
    );
    expect(
      kindOf(
        grpcError(
          status.INVALID_ARGUMENT,
          'etcdserver: authentication failed, invalid user ID or password',
        ),
      ),
    ).toBe('unauthenticated');
    expect(kindOf(grpcError(status.PERMISSION_DENIED, 'etcdserver: permission denied'))).toBe(
      'permission-denied',
    );
    expect(kindOf(grpcError(status.UNAUTHENTICATED, 'etcdserver: invalid auth token'))).toBe(
      'auth-expired',
    );
    // etcd with authentication on, asked without credentials.
    expect(kindOf(grpcError(status.INVALID_ARGUMENT, 'etcdserver: user name is empty'))).toBe(
      'unauthenticated',
    );
  });

  it('keeps what etcd3 said as the cause and the message', () => {
    const raw = grpcError(status.PERMISSION_DENIED, 'etcdserver: permission denied');
    const failure = toEtcdFailure(raw) as EtcdFailure;
    expect(failure.message).toBe('7 PERMISSION_DENIED: etcdserver: permission denied');
    expect(failure.cause).toBeInstanceOf(Error);
  });

  it('passes anything that is not an etcd failure through as it is', () => {
    const bug = new TypeError('undefined is not a function');
    expect(toEtcdFailure(bug)).toBe(bug);
  });

  it('drops grpc-js’s empty trailing resolution note from the message', () => {
    const failure = toEtcdFailure(
      grpcError(
        status.UNAVAILABLE,
        'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:2379. Resolution note: ',
      ),
    );
    expect(failure).toBeInstanceOf(EtcdFailure);
    expect((failure as EtcdFailure).message).toBe(
      '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:2379.',
    );
  });
});
