import type { Endpoint } from '../endpoint/Endpoint';
import { endpointState } from '../endpoint/EndpointState';
import type { Maintenance } from '../endpoint/Maintenance';
import { printable } from './printable';

/**
 * An endpoint as the CLI prints it: its address alone while it is serving (what scripts read), else the
 * address and its state in brackets, `10.0.0.7:80 [draining]`, and for maintenance the operator's reason
 * and how long ago it was set, `10.0.0.7:80 [maintenance: "disk swap", set 5m ago]`.
 */
export function endpointLine(endpoint: Endpoint, now = Date.now()): string {
  const state = endpointState(endpoint);
  const address = printable(endpoint.address);
  if (state === 'serving') {
    return address;
  }
  return endpoint.maintenance === undefined
    ? `${address} [${state}]`
    : `${address} [${state}: ${maintenanceNote(endpoint.maintenance, now)}]`;
}

/** `"reason", set 5m ago`: escaped, since anyone may have written it. */
export function maintenanceNote(maintenance: Maintenance, now = Date.now()): string {
  const since = maintenance.since === undefined ? NaN : Date.parse(maintenance.since);
  const age = Number.isNaN(since) ? 'set at an unknown time' : `set ${ago(now - since)} ago`;
  const reason = maintenance.reason === '' ? '' : `"${printable(maintenance.reason)}", `;
  return `${reason}${age}`;
}

/** A duration, roughly: `40s`, `12m`, `5h`, `3d`. */
function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}
