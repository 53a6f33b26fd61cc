import { readFileSync } from 'node:fs';
import { configSchema } from '../config/configSchema';
import type { GsrConfig } from '../config/GsrConfig';
import { ConfigError } from '../errors/ConfigError';

/** The PEM files of a TLS connection to etcd; `ca` absent: the system's root certificates. @internal */
interface TlsFiles {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/**
 * Reads the TLS files the configuration names, at once, so that a missing or unreadable file is a
 * `ConfigError` at connect time rather than a plain-text fallback (the Go gsr's behaviour) or a
 * handshake failure retried until the connect timeout. Every way gsr talks to etcd (gRPC, and the JSON
 * gateway of one-off reads) reads them here.
 *
 * With GSR_USE_TLS the client certificate and key are required; `https://` endpoints without it use TLS
 * without a client certificate. Returns `undefined` for plain text.
 * @internal
 */
export function readTlsFiles(config: GsrConfig): TlsFiles | undefined {
  const secure = config.etcdEndpoints.some((url) => url.startsWith('https:'));
  if (!secure) {
    return undefined;
  }
  return {
    ...(config.tlsCaPath !== undefined && { ca: read('tlsCaPath', config.tlsCaPath) }),
    ...(config.useTls && {
      cert: read('tlsCertPath', config.tlsCertPath),
      key: read('tlsKeyPath', config.tlsKeyPath),
    }),
  };
}

function read(key: 'tlsCaPath' | 'tlsCertPath' | 'tlsKeyPath', path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    throw new ConfigError([{ variable: configSchema[key].env, value: path, reason }], {
      cause: error,
    });
  }
}
