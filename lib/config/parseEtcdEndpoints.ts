const DEFAULT_ETCD_PORT = '2379';
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * Parses `GSR_ETCD_ENDPOINTS` into normalised `scheme://host:port` URLs.
 *
 * Accepts a comma-separated string or an array. Entries are trimmed; an entry without a scheme gets
 * `defaultScheme`, and one without a port gets etcd's `2379`.
 *
 * @throws Error whose message says what is wrong with which entry.
 * @internal
 */
export function parseEtcdEndpoints(
  raw: unknown,
  defaultScheme: 'http' | 'https' = 'http',
): readonly string[] {
  let entries: unknown[];
  if (typeof raw === 'string') {
    entries = raw.split(',');
  } else if (Array.isArray(raw)) {
    entries = raw;
  } else {
    throw new Error('expected a comma-separated string or an array of etcd URLs');
  }
  if (entries.length === 0) {
    throw new Error('expected at least one etcd endpoint');
  }
  return entries.map((entry) => parseEndpoint(entry, defaultScheme));
}

function parseEndpoint(entry: unknown, defaultScheme: string): string {
  if (typeof entry !== 'string') {
    throw new Error(`expected each endpoint to be a string, found ${typeof entry}`);
  }
  const text = entry.trim();
  if (text === '') {
    throw new Error('found an empty endpoint (check for a stray comma)');
  }
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new Error(`endpoint "${text}" has scheme "${scheme}"; only http and https are supported`);
  }
  const withScheme = scheme === undefined ? `${defaultScheme}://${text}` : text;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`endpoint "${text}" is not a valid host[:port] or URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(
      `endpoint "${text}" carries credentials; use GSR_ETCD_USERNAME and GSR_ETCD_PASSWORD`,
    );
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error(
      `endpoint "${text}" has a path, query or fragment; expected scheme://host:port`,
    );
  }
  if (text.endsWith('/') && !withScheme.endsWith('://')) {
    // `new URL` accepts a trailing slash; etcd3's host parsing does not.
    throw new Error(`endpoint "${text}" has a trailing slash; expected scheme://host:port`);
  }
  // `URL` drops a port equal to the scheme's default (http://h:80 → port ''), so read it off the text.
  const authority = withScheme.slice(withScheme.indexOf('://') + 3);
  const explicitPort = /:(\d+)$/.exec(authority)?.[1];
  if (explicitPort === undefined && /:[^\]]*$/.test(authority)) {
    throw new Error(`endpoint "${text}" has an invalid port`);
  }
  const port = explicitPort ?? DEFAULT_ETCD_PORT;
  if (Number(port) < 1 || Number(port) > 65535) {
    throw new Error(`endpoint "${text}" has port ${port}; expected 1 to 65535`);
  }
  return `${url.protocol}//${url.hostname}:${Number(port)}`;
}
