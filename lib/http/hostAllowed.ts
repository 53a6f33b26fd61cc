import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** What a Host header may hold: a name or an address, and a port; nothing a URL would read as more. */
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * The host a request's `Host` header names, lowercased, without its port or a trailing dot, IPv6
 * without brackets and IPv4 in dotted form; `undefined` when there is none or it is not a host.
 * @internal
 */
export function hostOf(header: string | undefined): string | undefined {
  if (header === undefined || !HOST_HEADER.test(header)) {
    return undefined;
  }
  try {
    const { hostname } = new URL(`http://${header}`);
    const host = hostname
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/\.$/, '')
      .toLowerCase();
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

/** Whether `host` can only ever mean this machine: `localhost` (and its subdomains), 127/8, `::1`. */
function isLoopbackHost(host: string): boolean {
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    (isIP(host) === 4 && host.startsWith('127.')) ||
    host === '::1' ||
    host === '::ffff:127.0.0.1'
  );
}

/**
 * Whether a request names a host this server may be reached as: a loopback name, the address the
 * request arrived on, or one of `allowed` (names, compared without case); `'bad request'` when it
 * names none the way HTTP says it must. Anything else is how a page on a domain that rebinds to this
 * machine (DNS rebinding) would read it: the server must answer it nothing.
 *
 * The host is read as RFC 9112 (section 3.2) has it: from the target when it is in absolute form
 * (`GET http://host/ HTTP/1.1`, whose `Host` a server must ignore), else from the `Host` header; a
 * request with more than one `Host` line is a bad request (400), whichever the first says.
 * @internal
 */
export function hostAllowed(
  request: IncomingMessage,
  allowed: readonly string[],
): boolean | 'bad request' {
  let hostLines = 0;
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    hostLines += request.rawHeaders[i]?.toLowerCase() === 'host' ? 1 : 0;
  }
  if (hostLines > 1) {
    return 'bad request';
  }
  const target = request.url ?? '';
  let authority = request.headers.host;
  if (/^https?:\/\//i.test(target)) {
    try {
      authority = new URL(target).host;
    } catch {
      return 'bad request';
    }
  }
  const local = request.socket.localAddress?.replace(/^::ffff:/, '').toLowerCase();
  return authorityAllowed(
    authority,
    allowed,
    (host) => local !== undefined && (host === local || host === `::ffff:${local}`),
  );
}

/**
 * The same rule for any authority (a `Host` header, gRPC's `:authority`): a loopback name, an address
 * `isLocalAddress` says the server is reached at, or one of `allowed`.
 * @internal
 */
export function authorityAllowed(
  authority: string | undefined,
  allowed: readonly string[],
  isLocalAddress: (host: string) => boolean,
): boolean {
  const host = hostOf(authority);
  if (host === undefined) {
    return false;
  }
  return (
    isLoopbackHost(host) || isLocalAddress(host) || allowed.some((name) => hostOf(name) === host)
  );
}
