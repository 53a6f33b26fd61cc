/**
 * Whether a connection failure is a TLS handshake that cannot succeed as configured: a certificate
 * that does not verify, or a TLS alert from etcd (no or bad client certificate). gRPC reports these as
 * UNAVAILABLE, like a refused connection, so only the message tells them apart.
 * @internal
 */
export function isTlsFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return /certificate|SSL routines|self[- ]signed|wrong version number|handshake/i.test(message);
}
