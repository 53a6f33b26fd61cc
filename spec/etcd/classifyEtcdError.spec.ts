import { status } from '@grpc/grpc-js';
import { EtcdLeaseInvalidError, GRPCUnavailableError } from 'etcd3';
import { classifyEtcdError } from '../../lib/etcd/classifyEtcdError';
import { isAuthenticationError } from '../../lib/errors/AuthenticationError';
import { isEtcdRefusedError } from '../../lib/errors/EtcdRefusedError';
import { isPermissionDeniedError } from '../../lib/errors/PermissionDeniedError';
import { ValidationError } from '../../lib/errors/ValidationError';

/** An error as grpc-js hands it over: a plain Error with a numeric code. */
const grpcError = (code: number, message: string): Error =>
  Object.assign(new Error(`${code} ${status[code] ?? ''}: ${message}`), { code });

const operation = { key: 'gsr/services/web/a:1', description: 'register gsr/services/web/a:1' };
const classify = (error: unknown) => classifyEtcdError(error, operation, 'svc');

describe('classifyEtcdError', () => {
  it.each([
    ['an unreachable member', grpcError(status.UNAVAILABLE, 'No connection established')],
    ['a deadline', grpcError(status.DEADLINE_EXCEEDED, 'Deadline exceeded')],
    ['rate limiting', grpcError(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests')],
    [
      'a compacted revision',
      grpcError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
    ],
    ['a lost lease', new EtcdLeaseInvalidError('123')],
    ['a typed unavailable error', new GRPCUnavailableError('down')],
  ])('retries %s', (_what, error) => {
    expect(classify(error)).toBeUndefined();
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
  ])('never retries %s: an EtcdRefusedError naming the operation and the key', (_what, error) => {
    const typed = classify(error);
    expect(isEtcdRefusedError(typed)).toBe(true);
    expect(typed).toMatchObject({ key: operation.key, operation: operation.description });
    expect(typed?.message).toContain('etcd refused to register gsr/services/web/a:1');
  });

  it('types authentication and permission failures', () => {
    const auth = classify(
      grpcError(
        status.INVALID_ARGUMENT,
        'etcdserver: authentication failed, invalid user ID or password',
      ),
    );
    expect(isAuthenticationError(auth)).toBe(true);
    expect(auth?.message).toContain('"svc"');
    const denied = classify(grpcError(status.PERMISSION_DENIED, 'etcdserver: permission denied'));
    expect(isPermissionDeniedError(denied)).toBe(true);
    expect(denied).toMatchObject({ key: operation.key, operation: operation.description });
    expect(denied?.message).toBe(
      'etcd denied gsr access to "gsr/services/web/a:1" (register gsr/services/web/a:1): ' +
        '7 PERMISSION_DENIED: etcdserver: permission denied',
    );
  });

  it('passes a typed gsr error, or a bug, through as it is', () => {
    const typed = new ValidationError('address', 'x', 'too long');
    expect(classify(typed)).toBe(typed);
    const bug = new TypeError('undefined is not a function');
    expect(classify(bug)).toBe(bug);
  });
});
