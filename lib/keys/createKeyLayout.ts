import type { GsrConfig } from '../config/GsrConfig';
import { GsrKeyLayout } from './GsrKeyLayout';
import type { KeyLayout } from './KeyLayout';

/** The key layout a configuration asks for. @internal */
export function createKeyLayout(config: Pick<GsrConfig, 'keyPrefix'>): KeyLayout {
  return new GsrKeyLayout(config.keyPrefix);
}
