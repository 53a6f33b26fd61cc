import { isAuthenticationError } from '../../lib/errors/AuthenticationError';
import { isEtcdRefusedError } from '../../lib/errors/EtcdRefusedError';
import { EtcdUnavailableError } from '../../lib/errors/EtcdUnavailableError';
import { isPermissionDeniedError } from '../../lib/errors/PermissionDeniedError';
import { isRegistryClosedError } from '../../lib/errors/RegistryClosedError';
import { ValidationError } from '../../lib/errors/ValidationError';
import { classifyEtcdError, type Verdict } from '../../lib/etcd/classifyEtcdError';
import { EtcdFailure, type EtcdFailureKind } from '../../lib/etcd/EtcdFailure';

const operation = { key: 'gsr/services/web/a:1', description: 'register gsr/services/web/a:1' };
const failure = (kind: EtcdFailureKind, message = 'etcd said so') =>
  new EtcdFailure(kind, message, { cause: new Error(message) });
const classify = (error: unknown): Verdict => classifyEtcdError(error, operation, 'svc');
const errorOf = (verdict: Verdict): Error => {
  if (!('error' in verdict)) {
    throw new Error(`expected an error, got the verdict ${verdict.kind}`);
  }
  return verdict.error;
};

describe('classifyEtcdError', () => {
  it('retries what may succeed later: unavailable, late, out of space, and an expired token', () => {
    expect(classify(failure('unavailable'))).toEqual({ kind: 'retry' });
    expect(classify(failure('no-space'))).toEqual({ kind: 'retry' });
    expect(classify(failure('late'))).toEqual({ kind: 'retry' });
    expect(classify(failure('auth-expired'))).toEqual({ kind: 'retry' });
  });

  it('says a lease etcd does not know is lost', () => {
    expect(classify(failure('lease-not-found'))).toEqual({ kind: 'lease-lost' });
  });

  it('refuses what etcd will refuse again, with an EtcdRefusedError naming the operation and key', () => {
    const verdict = classify(failure('invalid', 'etcdserver: request is too large'));
    expect(verdict.kind).toBe('refused');
    const error = errorOf(verdict);
    expect(isEtcdRefusedError(error)).toBe(true);
    expect(error).toMatchObject({ key: operation.key, operation: operation.description });
    expect(error.message).toBe(
      'etcd refused to register gsr/services/web/a:1: etcdserver: request is too large',
    );
  });

  it('types authentication and permission failures', () => {
    const auth = errorOf(classify(failure('unauthenticated', 'authentication failed')));
    expect(isAuthenticationError(auth)).toBe(true);
    expect(auth.message).toContain('"svc"');
    const denied = errorOf(classify(failure('permission-denied', 'etcdserver: permission denied')));
    expect(isPermissionDeniedError(denied)).toBe(true);
    expect(denied).toMatchObject({ key: operation.key, operation: operation.description });
    expect(denied.message).toBe(
      'etcd denied gsr access to "gsr/services/web/a:1" (register gsr/services/web/a:1): ' +
        'etcdserver: permission denied',
    );
  });

  it('stops on a closed client with a RegistryClosedError', () => {
    const verdict = classify(failure('closed'));
    expect(verdict.kind).toBe('fatal');
    expect(isRegistryClosedError(errorOf(verdict))).toBe(true);
  });

  it('passes a typed gsr error, or a bug, through as it is', () => {
    const typed = new ValidationError('address', 'x', 'too long');
    expect(classify(typed)).toEqual({ kind: 'fatal', error: typed });
    const bug = new TypeError('undefined is not a function');
    expect(classify(bug)).toEqual({ kind: 'fatal', error: bug });
  });
});

describe('the errors a newcomer meets', () => {
  it('says how to give credentials when etcd wants them and gsr has none', () => {
    const error = errorOf(
      classifyEtcdError(
        failure('unauthenticated', 'etcdserver: user name is empty'),
        operation,
        undefined,
      ),
    );
    expect(error.message).toBe(
      'etcd requires authentication, and gsr has no credentials: set GSR_ETCD_USERNAME and ' +
        'GSR_ETCD_PASSWORD (gsr --user and --password-file) (etcd said: etcdserver: user name is empty)',
    );
  });

  it('says "etcd is unavailable" once when one unavailability wraps another', () => {
    const grpc = new Error('14 UNAVAILABLE: No connection established');
    const nested = new EtcdUnavailableError(
      'deregister gsr/services/web/a:1',
      new EtcdUnavailableError('unregister gsr/services/web/a:1', grpc),
    );
    expect(nested.message).toBe(
      'etcd is unavailable; could not deregister gsr/services/web/a:1: 14 UNAVAILABLE: No connection ' +
        'established',
    );
  });
});
