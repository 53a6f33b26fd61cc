import { readFileSync } from 'node:fs';
import type { IOptions } from 'etcd3';
import { configSchema } from '../../config/configSchema';
import type { GsrConfig } from '../../config/GsrConfig';
import { ConfigError } from '../../errors/ConfigError';

type Credentials = NonNullable<IOptions['credentials']>;

/**
 * Reads the TLS files the configuration names, at once, so that a missing or unreadable file is a
 * `ConfigError` at connect time rather than a plain-text fallback (the Go gsr's behaviour) or a
 * handshake failure retried until the connect timeout.
 *
 * With GSR_USE_TLS the client certificate and key are required; `https://` endpoints without it use TLS
 * without a client certificate. Returns `undefined` for plain text.
 * @internal
 */
export function readTlsCredentials(config: GsrConfig): Credentials | undefined {
  const secure = config.etcdEndpoints.some((url) => url.startsWith('https:'));
  if (!secure) {
    return undefined;
  }
  const ca = config.tlsCaPath === undefined ? undefined : read('tlsCaPath', config.tlsCaPath);
  return {
    // etcd3 types this as required, but grpc-js reads `null` as "the system's root certificates".
    rootCertificate: ca ?? (null as unknown as Buffer),
    ...(config.useTls && {
      certChain: read('tlsCertPath', config.tlsCertPath),
      privateKey: read('tlsKeyPath', config.tlsKeyPath),
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
