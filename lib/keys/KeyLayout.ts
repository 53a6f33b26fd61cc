/**
 * Where gsr keeps things in etcd, the same as the Go gsr:
 * `<prefix>services/<service>/<address>`, e.g. `gsr/services/web/172.16.28.23:80`.
 *
 * Service prefixes end in `/`, so that `web` never sees `webapp`'s endpoints (the Go gsr listed
 * `gsr/services/web` without the slash, and did).
 * @internal
 */
export class KeyLayout {
  /** `<prefix>services/`: every service's keys. */
  readonly servicesPrefix: string;

  constructor(keyPrefix: string) {
    this.servicesPrefix = `${keyPrefix}services/`;
  }

  /** `<prefix>services/<service>/`: one service's keys, and nothing else. */
  servicePrefix(service: string): string {
    return `${this.servicesPrefix}${service}/`;
  }

  /** `<prefix>services/<service>/<address>`. */
  endpointKey(service: string, address: string): string {
    return `${this.servicesPrefix}${service}/${address}`;
  }

  /**
   * The service and address a key names, or `undefined` when it is not exactly
   * `<prefix>services/<service>/<address>` with both parts non-empty. Reading is lenient beyond that:
   * keys written by other tools are listed as they are.
   */
  parse(key: string): { readonly service: string; readonly address: string } | undefined {
    if (!key.startsWith(this.servicesPrefix)) {
      return undefined;
    }
    const rest = key.slice(this.servicesPrefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0 || slash === rest.length - 1 || rest.includes('/', slash + 1)) {
      return undefined;
    }
    return { service: rest.slice(0, slash), address: rest.slice(slash + 1) };
  }
}
