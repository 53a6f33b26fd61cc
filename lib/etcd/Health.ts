/**
 * Whether a registry can talk to etcd, as {@link Registry.health$} reports it.
 *
 * @example
 * ```ts
 * registry.health$.subscribe(({ connected, since }) =>
 *   readiness.set(connected ? 'ready' : `etcd unreachable since ${since.toISOString()}`),
 * );
 * ```
 */
export interface Health {
  /** `true` while etcd answers; `false` from the first failure until the next success. */
  readonly connected: boolean;
  /** When this state began. */
  readonly since: Date;
  /** While disconnected: the failure that began it. */
  readonly cause?: unknown;
}
