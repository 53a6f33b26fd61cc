import { validateEndpoint, validateName } from '../../lib/endpoint/validateEndpoint';
import { isValidationError, ValidationError } from '../../lib/errors/ValidationError';

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
    const endpoint = validateEndpoint({ service: 'web', address: 'a:1', metadata });
    expect(endpoint.metadata).toEqual(metadata);
    expect(endpoint.metadata).not.toBe(metadata);
    expect(Object.isFrozen(endpoint.metadata?.nested)).toBe(true);
  });

  it.each([
    [{ service: '', address: 'a:1' }, 'service', 'non-empty'],
    [{ address: 'a:1' }, 'service', 'expected a string'],
    [{ service: 'a/b', address: 'a:1' }, 'service', 'must not contain'],
    [{ service: 'web app', address: 'a:1' }, 'service', 'must not contain'],
    [{ service: 'web\n', address: 'a:1' }, 'service', 'must not contain'],
    [{ service: 'web\u0007', address: 'a:1' }, 'service', 'must not contain'],
    [{ service: '..', address: 'a:1' }, 'service', 'other than'],
    [{ service: 'web', address: '' }, 'address', 'non-empty'],
    [{ service: 'web', address: 'http://x:1' }, 'address', 'must not contain'],
    [{ service: 'web', address: '1.2.3.4 :80' }, 'address', 'must not contain'],
    [{ service: 'web', address: 42 }, 'address', 'expected a string'],
    [{ service: 'web', address: 'a:1', metadata: 'zone=a' }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a:1', metadata: [1] }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a:1', metadata: null }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a:1', metadata: new Date(0) }, 'metadata', 'plain JSON'],
    [{ service: 'web', address: 'a:1', metadata: { f: () => 1 } }, 'metadata', 'survive JSON'],
    [{ service: 'web', address: 'a:1', metadata: { n: NaN } }, 'metadata', 'survive JSON'],
    [{ service: 'web', address: 'a:1', metadata: { u: undefined } }, 'metadata', 'survive JSON'],
    [{ service: 'web', address: 'a:1', metadata: { big: 10n } }, 'metadata', 'plain JSON'],
    [
      { service: 'web', address: 'a:1', metadata: { when: new Date(0) } },
      'metadata',
      'survive JSON',
    ],
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
      validationErrorOf(() => validateEndpoint({ service: 'w', address: 'a:1', metadata })).field,
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
        validateEndpoint({ service: 'w', address: 'a:1', metadata }),
      );
      expect(error.field).toBe('metadata');
      expect(error.message).toContain(reason);
      expect(error.message.length).toBeLessThan(400); // a bounded prefix of the value, never 70 KB
    });

    it('takes 32 levels', () => {
      expect(
        validateEndpoint({ service: 'w', address: 'a:1', metadata: deep(32) }).metadata,
      ).toEqual(deep(32));
    });
  });

  it.each([
    [{ service: 'web', address: 'a\ud800' }, 'address', 'well-formed Unicode'],
    [{ service: '\udc00web', address: 'a:1' }, 'service', 'well-formed Unicode'],
    [
      { service: 'web', address: 'x'.repeat(513) },
      'address',
      'at most 512 bytes in UTF-8 (it is 513)',
    ],
    [
      { service: 'é'.repeat(257), address: 'a:1' },
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

describe('validateEndpoint, given what a careless or hostile caller passes', () => {
  it('refuses metadata whose getter throws, or a Proxy, with a ValidationError naming metadata', () => {
    const getter = Object.defineProperty({}, 'zone', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const proxy = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('no keys');
        },
        getPrototypeOf: () => Object.prototype,
      },
    );
    for (const metadata of [getter, proxy]) {
      let error: unknown;
      try {
        validateEndpoint({ service: 'web', address: 'a:1', metadata });
      } catch (thrown) {
        error = thrown;
      }
      expect(isValidationError(error)).toBe(true);
      expect(error).toMatchObject({ field: 'metadata' });
      expect((error as Error).message).toContain('cannot be read');
    }
  });

  it('refuses an endpoint whose fields cannot be read, or that is not an object', () => {
    const hostile = Object.defineProperty({}, 'service', {
      get() {
        throw new Error('boom');
      },
    });
    for (const endpoint of [hostile, null, undefined, 'web', 7]) {
      expect(() => validateEndpoint(endpoint)).toThrow(ValidationError);
    }
  });

  it.each([
    ['justahost', 'expected host:port'],
    ['10.0.0.7', 'expected host:port'],
    ['10.0.0.7:0', 'expected a port from 1 to 65535, got 0'],
    ['10.0.0.7:70000', 'expected a port from 1 to 65535, got 70000'],
    ['::1:80', 'expected host:port'],
    ['[::1]', 'expected host:port'],
  ])('requires a port: refuses %j (%s)', (address, reason) => {
    expect(() => validateEndpoint({ service: 'web', address })).toThrow(reason);
  });

  it.each(['10.0.0.7:80', 'web-1.internal:8080', '[::1]:80', '[fe80::1]:65535'])(
    'takes %j',
    (address) => {
      expect(validateEndpoint({ service: 'web', address }).address).toBe(address);
    },
  );

  it('says "an object", not "a object"', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => validateEndpoint({ service: 'web', address: 'a:1', metadata: cycle })).toThrow(
      /\(an object\)/,
    );
  });
});
