import { validateEndpoint, validateServiceName } from '../../lib/endpoint/validateEndpoint';
import { ValidationError } from '../../lib/errors/ValidationError';

function validationErrorOf(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('validateEndpoint', () => {
  it('accepts a service and an address, and freezes the result', () => {
    const endpoint = validateEndpoint({ service: 'web', address: '10.0.0.1:80' });
    expect(endpoint).toEqual({ service: 'web', address: '10.0.0.1:80' });
    expect(Object.isFrozen(endpoint)).toBe(true);
    expect('metadata' in endpoint).toBe(false);
  });

  it('accepts plain JSON metadata and deep-freezes a copy', () => {
    const metadata = { zone: 'a', weights: [1, 2], nested: { ok: true, none: null } };
    const endpoint = validateEndpoint({ service: 'web', address: 'a', metadata });
    expect(endpoint.metadata).toEqual(metadata);
    expect(endpoint.metadata).not.toBe(metadata);
    expect(Object.isFrozen(endpoint.metadata?.nested)).toBe(true);
  });

  it.each([
    [{ service: '', address: 'a' }, 'service', 'non-empty'],
    [{ address: 'a' }, 'service', 'expected a string'],
    [{ service: 'a/b', address: 'a' }, 'service', 'must not contain'],
    [{ service: 'web app', address: 'a' }, 'service', 'must not contain'],
    [{ service: 'web\n', address: 'a' }, 'service', 'must not contain'],
    [{ service: 'web\u0007', address: 'a' }, 'service', 'must not contain'],
    [{ service: '..', address: 'a' }, 'service', 'other than'],
    [{ service: 'web', address: '' }, 'address', 'non-empty'],
    [{ service: 'web', address: 'http://x:1' }, 'address', 'must not contain'],
    [{ service: 'web', address: '1.2.3.4 :80' }, 'address', 'must not contain'],
    [{ service: 'web', address: 42 }, 'address', 'expected a string'],
    [{ service: 'web', address: 'a', metadata: 'zone=a' }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a', metadata: [1] }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a', metadata: null }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a', metadata: new Date(0) }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a', metadata: { f: () => 1 } }, 'metadata', 'survive JSON'],
    [{ service: 'web', address: 'a', metadata: { n: NaN } }, 'metadata', 'survive JSON'],
    [{ service: 'web', address: 'a', metadata: { u: undefined } }, 'metadata', 'survive JSON'],
    [{ service: 'web', address: 'a', metadata: { big: 10n } }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a', metadata: { when: new Date(0) } }, 'metadata', 'survive JSON'],
  ])('rejects %j, naming %s', (endpoint, field, reason) => {
    const error = validationErrorOf(() => validateEndpoint(endpoint));
    expect(error.name).toBe('ValidationError');
    expect(error.field).toBe(field);
    expect(error.message).toContain(`Invalid ${field}`);
    expect(error.message).toContain(reason);
  });

  it('rejects what is not an object', () => {
    expect(validationErrorOf(() => validateEndpoint('web')).field).toBe('endpoint');
    expect(validationErrorOf(() => validateEndpoint(null)).field).toBe('endpoint');
  });

  it('rejects metadata with a cycle', () => {
    const metadata: Record<string, unknown> = {};
    metadata.self = metadata;
    expect(
      validationErrorOf(() => validateEndpoint({ service: 'w', address: 'a', metadata })).field,
    ).toBe('metadata');
  });

  it('names the value in the message', () => {
    expect(validationErrorOf(() => validateServiceName('a/b')).message).toBe(
      'Invalid service "a/b": must not contain "/", whitespace or control characters',
    );
  });
});
