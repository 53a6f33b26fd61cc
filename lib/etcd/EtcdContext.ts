import type { IBackoffFactory } from 'cockatiel';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'winston';
import type { ConnectionHealth } from '../registry/ConnectionHealth';

/** What the parts of a registry share to talk to etcd. @internal */
export interface EtcdContext {
  readonly client: Etcd3;
  readonly logger: Logger;
  readonly health: ConnectionHealth;
  /** The user gsr authenticates as, for error messages. */
  readonly username: string | undefined;
  /** Delays between attempts while etcd cannot be reached (decorrelated jitter). */
  readonly backoff: IBackoffFactory<undefined>;
  /** Aborted when the registry closes: streams complete, retries stop. */
  readonly closing: AbortSignal;
}
