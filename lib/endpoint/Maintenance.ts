/** An operator's override that takes an endpoint out of rotation (`gsr drain`, `registry.setMaintenance`). */
export interface Maintenance {
  /** Why, as the operator said it (bounded and escaped when read back: anyone may write it). */
  readonly reason: string;
  /** When it was set, as an ISO 8601 date, if the writer said so. */
  readonly since?: string;
}
