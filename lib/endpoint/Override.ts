import type { Maintenance } from './Maintenance';

/** An operator's override of one address: {@link Registry.overrides}. */
export interface Override {
  /** The service the endpoint belongs to. */
  readonly service: string;
  /** The endpoint's address: it may no longer be listed (an override outlives its endpoint). */
  readonly address: string;
  /** Why the operator took it out, and since when. */
  readonly maintenance: Maintenance;
}
