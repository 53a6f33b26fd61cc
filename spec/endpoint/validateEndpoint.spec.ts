import { validateEndpoint, validateName } from '../../lib/endpoint/validateEndpoint';
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
    expect(validationErrorOf(() => validateName('a/b', 'service')).message).toBe(
      'Invalid service "a/b": must not contain "/", whitespace or control characters',
    );
  });

  describe('says which rule metadata breaks, and where', () => {
    const deep = (levels: number): Record<string, unknown> => {
      let value: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) {
        value = { a: value };
      }
      return value;
    };
    const cyclic: Record<string, unknown> = { zone: 'a', inner: {} };
    (cyclic.inner as Record<string, unknown>).back = cyclic;

    it.each([
      ['a cycle', cyclic, 'contains a cycle (metadata.inner.back refers back'],
      ['a BigInt', { limits: { max: 10n } }, 'metadata.limits.max is a BigInt'],
      ['33 levels', deep(33), 'nests deeper than 32 levels'],
      ['10,000 levels', deep(10_000), 'nests deeper than 32 levels'],
      ['a Date', { at: new Date(0) }, 'metadata.at is a Date, not a plain object'],
      ['NaN', { n: NaN }, 'metadata.n is NaN'],
      ['a function', { f: () => 1 }, 'metadata.f is a function'],
      ['undefined', { u: undefined }, 'metadata.u is undefined'],
      ['a string', 'zone=a', 'it is a string'],
      ['an array', ['a'], 'it is an array'],
      ['70 KB of JSON', { blob: 'x'.repeat(70_000) }, 'at most 65536'],
      ['a million values', { many: Array.from({ length: 1_000_000 }, () => 0) }, 'at most 65536'],
    ])('%s', (_what, metadata, reason) => {
      const error = validationErrorOf(() =>
        validateEndpoint({ service: 'w', address: 'a', metadata }),
      );
      expect(error.field).toBe('metadata');
      expect(error.message).toContain(reason);
      expect(error.message.length).toBeLessThan(400); // a bounded prefix of the value, never 70 KB
    });

    it('takes 32 levels', () => {
      expect(validateEndpoint({ service: 'w', address: 'a', metadata: deep(32) }).metadata).toEqual(
        deep(32),
      );
    });
  });

  it.each([
    [{ service: 'web', address: 'a\ud800' }, 'address', 'well-formed Unicode'],
    [{ service: '\udc00web', address: 'a' }, 'service', 'well-formed Unicode'],
    [
      { service: 'web', address: 'x'.repeat(513) },
      'address',
      'at most 512 bytes in UTF-8 (it is 513)',
    ],
    [
      { service: 'é'.repeat(257), address: 'a' },
      'service',
      'at most 512 bytes in UTF-8 (it is 514)',
    ],
  ])('rejects %j, naming %s and the rule', (endpoint, field, reason) => {
    const error = validationErrorOf(() => validateEndpoint(endpoint));
    expect(error.field).toBe(field);
    expect(error.message).toContain(reason);
    expect(error.message.length).toBeLessThan(400);
  });

  it('escapes what it echoes: a lone surrogate or a terminal escape never reaches a log raw', () => {
    const error = validationErrorOf(() =>
      validateEndpoint({ service: 'web', address: 'a\u001b[2J\ud800' }),
    );
    expect(error.message).toContain('a\\u001b[2J\\ud800');
    expect(error.message).not.toContain('\u001b');
  });
});
