import fc from 'fast-check';
import { escapeBytes } from '../../lib/text/escapeBytes';
import { escapeText } from '../../lib/text/escapeText';

// eslint-disable-next-line no-control-regex
const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('escapeText', () => {
  it('leaves ordinary text alone', () => {
    expect(escapeText('10.0.0.7:8080')).toBe('10.0.0.7:8080');
    expect(escapeText('café-東京-🎉')).toBe('café-東京-🎉');
  });

  it('escapes controls, bidirectional overrides, lone surrogates and the backslash', () => {
    expect(escapeText('a\nb\u001b[31m\u202e\ud800\\')).toBe(
      'a\\u000ab\\u001b[31m\\u202e\\ud800\\\\',
    );
  });

  it('cuts long text and says how much it cut; text of exactly the bound is whole', () => {
    expect(escapeText('x'.repeat(10_000), 10)).toBe('xxxxxxxxxx…(9990 more)');
    expect(escapeText('x'.repeat(10), 10)).toBe('x'.repeat(10));
  });

  it('in JSON text, escapes what JSON leaves raw (C1, bidi, lone surrogates), not its backslashes', () => {
    expect(escapeText('{"a":"\\n\u0085\u202e"}', 200, true)).toBe('{"a":"\\n\\u0085\\u202e"}');
    expect(escapeText('\ud800x \udc00 \ud83c\udf89', 200, true)).toBe('\\ud800x \\udc00 🎉');
    expect(escapeText('x\ud800', 200, true)).toBe('x\\ud800');
    expect(escapeText('\udc00x', 200, true)).toBe('\\udc00x');
  });

  it('gives one line of well-formed text without raw controls, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const escaped = escapeText(text, Infinity);
        expect(RAW_UNSAFE.test(escaped)).toBe(false);
        expect(escaped.isWellFormed()).toBe(true);
      }),
    );
  });

  it('never makes two strings one (escaping is one-to-one)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
        fc.pre(a !== b);
        expect(escapeText(a, Infinity)).not.toBe(escapeText(b, Infinity));
      }),
    );
  });
});

describe('escapeBytes', () => {
  it('shows printable ASCII as it is and every other byte as \\xNN', () => {
    expect(escapeBytes(Buffer.from([0x61, 0xff, 0x0a, 0x5c, 0x20, 0x7a]))).toBe(
      'a\\xff\\x0a\\x5c\\x20z',
    );
  });

  it('is printable ASCII and one-to-one, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        expect(/^[\x21-\x7e]*$/.test(escapeBytes(a, Infinity))).toBe(true);
        fc.pre(Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0);
        expect(escapeBytes(a, Infinity)).not.toBe(escapeBytes(b, Infinity));
      }),
    );
  });
});
