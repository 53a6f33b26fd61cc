import { normalizeKeyPrefix } from './normalizeKeyPrefix';
import { parseEtcdEndpoints } from './parseEtcdEndpoints';

/**
 * The longest duration gsr accepts, in seconds: Node's timers hold at most 2^31-1 ms (about 24.8 days);
 * a longer one fires after 1 ms instead, so a bigger timeout or lease TTL would spin rather than wait.
 * @internal
 */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const TRUE = new Set(['1', 't', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'f', 'false', 'no', 'off']);
const WHOLE = /^\d+$/;
const DECIMAL = /^(\d+\.?\d*|\.\d+)$/;

/** A variable that is set but empty is far more likely a broken template than a wish for the default. */
function notEmpty(value: unknown): void {
  if (value === '') {
    throw new Error('is set but empty (unset it to use the default)');
  }
}

/** The text of an environment variable as a number, when it is one; anything else is left to validate. */
function numberFrom(pattern: RegExp): (text: string) => unknown {
  return (text) => (pattern.test(text.trim()) ? Number(text.trim()) : text);
}

/** A convict format: `coerce` reads an environment variable's text, `validate` throws on a bad value. */
interface SettingFormat {
  readonly coerce?: (text: string) => unknown;
  readonly validate: (value: unknown) => void;
}

function oneOf(allowed: readonly string[]): SettingFormat {
  return {
    validate(value: unknown) {
      notEmpty(value);
      if (typeof value !== 'string' || !allowed.includes(value)) {
        throw new Error(`expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
      }
    },
  };
}

function wholeNumber(min: number, max: number): SettingFormat {
  return {
    coerce: numberFrom(WHOLE),
    validate(value: unknown) {
      notEmpty(value);
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
        throw new Error(`expected a whole number of at least ${min}`);
      }
      if (value > max) {
        throw new Error(
          `expected a whole number of at least ${min} and at most ${max} (Node's timers hold at most 2^31-1 ms)`,
        );
      }
    },
  };
}

/**
 * The convict formats of gsr's settings, registered with `convict.addFormats`. Each `coerce` reads the
 * text of an environment variable (and leaves text it cannot read for `validate` to reject), and each
 * `validate` throws an Error that says what was expected. Values given in code are validated the same
 * way.
 * @internal
 */
export const configFormats = {
  'gsr-endpoints': {
    validate(value: unknown) {
      notEmpty(value);
      parseEtcdEndpoints(value);
    },
  },
  'gsr-key-prefix': {
    validate(value: unknown) {
      notEmpty(value);
      normalizeKeyPrefix(value);
    },
  },
  'gsr-seconds': {
    coerce: numberFrom(DECIMAL),
    validate(value: unknown) {
      notEmpty(value);
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
        throw new Error('expected a number of seconds greater than 0');
      }
      if (value > MAX_SECONDS) {
        throw new Error(
          `expected a number of seconds greater than 0 and at most ${MAX_SECONDS} (Node's timers hold at most 2^31-1 ms)`,
        );
      }
    },
  },
  'gsr-share': {
    coerce: numberFrom(DECIMAL),
    validate(value: unknown) {
      notEmpty(value);
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw new Error('expected a share from 0 to 1, e.g. 0.5');
      }
    },
  },
  'gsr-lease-seconds': wholeNumber(1, MAX_SECONDS),
  'gsr-log-level': wholeNumber(0, Number.MAX_SAFE_INTEGER),
  'gsr-drain-delay-ms': wholeNumber(0, MAX_SECONDS * 1000),
  'gsr-boolean': {
    coerce(text: string): unknown {
      const word = text.trim().toLowerCase();
      return TRUE.has(word) ? true : FALSE.has(word) ? false : text;
    },
    validate(value: unknown) {
      notEmpty(value);
      if (typeof value !== 'boolean') {
        throw new Error('expected true or false (or 1/0, yes/no, on/off)');
      }
    },
  },
  'gsr-key-layout': oneOf(['gsr', 'etcd-naming']),
  'gsr-naming-metadata': oneOf(['string', 'object']),
  'gsr-directory': {
    validate(value: unknown) {
      // May be empty: '' turns the feature off.
      if (typeof value !== 'string' || value.includes('\u0000')) {
        throw new Error("expected a directory's path, or '' for none");
      }
    },
  },
  'gsr-text': {
    validate(value: unknown) {
      notEmpty(value);
      if (typeof value !== 'string' || value.trim() === '') {
        throw new Error('expected a non-empty string');
      }
    },
  },
} satisfies Record<string, SettingFormat>;

/** The name of one of {@link configFormats}. @internal */
export type ConfigFormat = keyof typeof configFormats;
