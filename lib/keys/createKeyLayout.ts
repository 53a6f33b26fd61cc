import type { GsrConfig } from '../config/GsrConfig';
import { EtcdNamingKeyLayout } from './EtcdNamingKeyLayout';
import { GsrKeyLayout } from './GsrKeyLayout';
import type { KeyLayout } from './KeyLayout';

/** The key layout a configuration asks for. @internal */
export function createKeyLayout(
  config: Pick<GsrConfig, 'keyLayout' | 'keyPrefix' | 'namingMetadata'>,
): KeyLayout {
  return config.keyLayout === 'etcd-naming'
    ? new EtcdNamingKeyLayout(config.keyPrefix, config.namingMetadata)
    : new GsrKeyLayout(config.keyPrefix);
}
