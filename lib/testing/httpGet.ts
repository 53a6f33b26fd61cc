import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

/** TLS material for talking to a member's client port over https. */
export interface HttpTls {
  /** The CA that signed the server's certificate (PEM). */
  readonly ca?: Buffer;
  /** A client certificate (PEM). */
  readonly cert?: Buffer;
  /** The client certificate's private key (PEM). */
  readonly key?: Buffer;
}

/**
 * GETs `url` and resolves with the status and body. Opens a fresh connection and closes it (no keep-alive
 * agent), so that nothing lingers to hold a test process open.
 * @internal
 */
export function httpGet(
  url: string,
  tls: HttpTls = {},
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  const secure = url.startsWith('https:');
  const options: RequestOptions = { agent: false, timeout: timeoutMs, ...(secure ? tls : {}) };
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}
