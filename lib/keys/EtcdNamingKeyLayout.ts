import type { Endpoint, Metadata } from '../endpoint/Endpoint';
import { MAX_METADATA_BYTES, MAX_METADATA_DEPTH, MAX_NAME_BYTES } from '../endpoint/limits';
import { metadataOf } from '../endpoint/metadataCodec';
import { nameProblem } from '../endpoint/nameProblem';
import { listedEndpoint } from '../endpoint/ownState';
import { parseBoundedJson } from '../endpoint/parseBoundedJson';
import { validateEndpoint } from '../endpoint/validateEndpoint';
import { ValidationError } from '../errors/ValidationError';
import { decodeUtf8 } from '../text/decodeUtf8';
import type { DecodedEntry, KeyLayout } from './KeyLayout';

/** The largest value read: an address and 64 KiB of metadata, escaped once more as a JSON string. */
const MAX_VALUE_BYTES = 2 * MAX_METADATA_BYTES + 2 * MAX_NAME_BYTES;

/**
 * etcd's own naming layout (`go.etcd.io/etcd/client/v3/naming/endpoints`, and its 3.4 backport), which
 * grpc-go clients dialling `etcd:///<target>` through etcd's resolver read: the keys under
 * `<prefix><target>/`, each value `{"Op":0,"Addr":"10.0.0.7:50051","Metadata":...}` as Go's
 * `json.Marshal` writes it. gsr writes the id after the target as the address.
 *
 * Reading, it lists what etcd's Go resolver lists: every key under the target with a JSON object holding
 * a string `Addr`, whatever its `Op` (the resolver takes every put as an add), with its id allowed to hold
 * `/` (`prod/greeter` never lists `prod/greeter-v2/…`: the prefix ends in `/`). Other values are skipped
 * with one log line. Metadata is the `Metadata` object, or the object a JSON string in it holds (what gsr
 * writes by default); other `Metadata` (a number, a plain string) is Go's business and not metadata.
 * @internal
 */
export class EtcdNamingKeyLayout implements KeyLayout {
  readonly servicesPrefix = undefined;
  readonly idIsAddress = false;
  /**
   * `<prefix>gsr-overrides/`: operators' overrides, `<prefix>gsr-overrides/<target>/<address>` (etcd's
   * Go resolver never reads there unless a target is named `gsr-overrides/...`).
   */
  readonly overridesPrefix: string;
  readonly #keyPrefix: string;
  readonly #metadataAs: 'string' | 'object';

  /**
   * @param keyPrefix Before every target: `''` for the root of the keyspace (Go's default), or a prefix
   *   ending in `/`.
   * @param metadataAs How metadata goes into `Metadata`: as a JSON string (safe for every grpc-go), or as
   *   the object (grpc-go before 1.42 panics on it with round_robin).
   */
  constructor(keyPrefix: string, metadataAs: 'string' | 'object') {
    this.#keyPrefix = keyPrefix;
    this.overridesPrefix = `${keyPrefix}gsr-overrides/`;
    this.#metadataAs = metadataAs;
  }

  get probePrefix(): string {
    return this.#keyPrefix;
  }

  get probeMayBeDenied(): boolean {
    return this.#keyPrefix === '';
  }

  /**
   * A target: any text a key can hold between the prefix and the endpoint's id, `/` included, but not at
   * either end nor twice in a row (`a//b` and `a/` would overlap other targets' keys in ways Go's
   * resolver does not expect), without whitespace or control characters, at most 512 bytes.
   */
  validateService(target: unknown, field = 'target'): string {
    if (typeof target !== 'string') {
      throw new ValidationError(field, target, 'expected a string');
    }
    const problem =
      nameProblem(target, true) ??
      (target.startsWith('/') || target.endsWith('/')
        ? 'must not start or end with "/"'
        : target.includes('//')
          ? 'must not contain "//"'
          : undefined);
    if (problem !== undefined) {
      throw new ValidationError(field, target, problem);
    }
    return target;
  }

  validateEndpoint(endpoint: unknown): Endpoint {
    return validateEndpoint(endpoint, (target) => this.validateService(target), true);
  }

  servicePrefix(target: string): string {
    return `${this.#keyPrefix}${target}/`;
  }

  overrideKey({ service, address }: Pick<Endpoint, 'service' | 'address'>): string {
    return `${this.overridesPrefix}${service}/${address}`;
  }

  endpointKey({ service, address }: Pick<Endpoint, 'service' | 'address'>): string {
    return `${this.#keyPrefix}${service}/${address}`;
  }

  /** What Go's `json.Marshal` of etcd's `Update` gives, field for field. */
  encodeValue({ address, metadata }: Endpoint): string {
    const written =
      metadata === undefined
        ? null
        : this.#metadataAs === 'string'
          ? JSON.stringify(metadata)
          : metadata;
    return JSON.stringify({ Op: 0, Addr: address, Metadata: written });
  }

  decodeEntry(target: string, id: string, value: Buffer): DecodedEntry {
    if (id === '') {
      return { skip: 'the key is the target itself, with no endpoint id after it' };
    }
    if (value.length > MAX_VALUE_BYTES) {
      return { skip: `the value is ${value.length} bytes; at most ${MAX_VALUE_BYTES}` };
    }
    const text = decodeUtf8(value);
    const parsed = text === undefined ? undefined : parseBoundedJson(text, MAX_METADATA_DEPTH + 1);
    if (parsed === undefined || 'error' in parsed) {
      const why = parsed === undefined ? 'is not valid UTF-8' : parsed.error;
      return { skip: `not etcd's naming JSON: the value ${why}` };
    }
    const update = parsed.value;
    if (typeof update !== 'object' || update === null || Array.isArray(update)) {
      return { skip: `not etcd's naming JSON: the value is not {"Op":0,"Addr":...}` };
    }
    const { Addr: address, Metadata: written } = update as Record<string, unknown>;
    if (typeof address !== 'string') {
      return { skip: 'not etcd\'s naming JSON: "Addr" is not a string' };
    }
    const problem = nameProblem(address, true);
    if (problem !== undefined) {
      return { skip: `its "Addr" ${problem}` };
    }
    return listedEndpoint(target, address, readMetadata(written));
  }
}

/** gsr's metadata in a `Metadata` field: the object, or the object a JSON string holds. */
function readMetadata(written: unknown): Metadata | undefined {
  let value = written;
  if (typeof written === 'string') {
    const parsed = parseBoundedJson(written, MAX_METADATA_DEPTH);
    value = 'value' in parsed ? parsed.value : undefined;
  }
  const decoded = metadataOf(value);
  return 'metadata' in decoded ? decoded.metadata : undefined;
}
