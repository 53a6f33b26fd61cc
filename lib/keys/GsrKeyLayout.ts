import type { Endpoint } from '../endpoint/Endpoint';
import { decodeMetadata, encodeMetadata } from '../endpoint/metadataCodec';
import { nameProblem } from '../endpoint/nameProblem';
import { listedEndpoint } from '../endpoint/ownState';
import { validateEndpoint, validateName } from '../endpoint/validateEndpoint';
import { decodeUtf8 } from '../text/decodeUtf8';
import type { DecodedEntry, KeyLayout, KeyValue } from './KeyLayout';

/**
 * gsr's layout, the same as the Go gsr's: `<prefix>services/<service>/<address>`, e.g.
 * `gsr/services/web/172.16.28.23:80`, the value empty (what the Go gsr writes) or the metadata's JSON.
 *
 * Service prefixes end in `/`, so that `web` never sees `webapp`'s endpoints (the Go gsr listed
 * `gsr/services/web` without the slash, and did). A key lists an endpoint only when its address is one
 * gsr could have registered: valid UTF-8, no `/`, whitespace or control characters, at most 512 bytes.
 * A value that is not metadata loses only the metadata.
 * @internal
 */
export class GsrKeyLayout implements KeyLayout {
  /** `<prefix>services/`: every service's keys. */
  readonly servicesPrefix: string;
  /** `<prefix>overrides/`: operators' overrides, `<prefix>overrides/<service>/<address>`. */
  readonly overridesPrefix: string;
  readonly #servicesPrefixBytes: number;
  readonly idIsAddress = true;
  readonly probeMayBeDenied = false;

  constructor(keyPrefix: string) {
    this.servicesPrefix = `${keyPrefix}services/`;
    this.overridesPrefix = `${keyPrefix}overrides/`;
    this.#servicesPrefixBytes = Buffer.byteLength(this.servicesPrefix);
  }

  get probePrefix(): string {
    return this.servicesPrefix;
  }

  validateService(service: unknown, field = 'service'): string {
    return validateName(service, field);
  }

  validateEndpoint(endpoint: unknown): Endpoint {
    return validateEndpoint(endpoint);
  }

  servicePrefix(service: string): string {
    return `${this.servicesPrefix}${service}/`;
  }

  overrideKey({ service, address }: Pick<Endpoint, 'service' | 'address'>): string {
    return `${this.overridesPrefix}${service}/${address}`;
  }

  endpointKey({ service, address }: Pick<Endpoint, 'service' | 'address'>): string {
    return `${this.servicesPrefix}${service}/${address}`;
  }

  encodeValue(endpoint: Endpoint): string {
    return encodeMetadata(endpoint.metadata);
  }

  decodeEntry(service: string, address: string, value: Buffer): DecodedEntry {
    const problem = nameProblem(address);
    if (problem !== undefined) {
      return { skip: `not <prefix>services/<service>/<address>: the address ${problem}` };
    }
    const decoded = decodeMetadata(value);
    if ('error' in decoded) {
      return { endpoint: Object.freeze({ service, address }), warning: decoded.error };
    }
    return listedEndpoint(service, address, decoded.metadata);
  }

  serviceOfEntry(
    entry: KeyValue,
  ): { readonly service: string; readonly id: string } | { readonly skip: string } {
    const rest = decodeUtf8(entry.key.subarray(this.#servicesPrefixBytes));
    if (rest === undefined) {
      return { skip: 'the key is not valid UTF-8' };
    }
    const slash = rest.indexOf('/');
    const service = slash < 0 ? rest : rest.slice(0, slash);
    const address = slash < 0 ? '' : rest.slice(slash + 1);
    const serviceProblem = nameProblem(service);
    if (serviceProblem !== undefined) {
      return { skip: `not <prefix>services/<service>/<address>: the service ${serviceProblem}` };
    }
    const addressProblem = nameProblem(address);
    if (addressProblem !== undefined) {
      return { skip: `not <prefix>services/<service>/<address>: the address ${addressProblem}` };
    }
    return { service, id: address };
  }
}
