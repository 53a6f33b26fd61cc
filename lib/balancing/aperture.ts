import type { Endpoint } from '../endpoint/Endpoint';
import { pickableEndpoints } from '../endpoint/EndpointState';
import type { SubsetOptions } from './SubsetOptions';

/**
 * Deterministic subsetting, as Finagle's deterministic aperture does it: clients and servers each
 * share the same ring [0, 1), clients at evenly spaced offsets in address order (client `i` of `N` at
 * `i / N`), servers as equal arcs in address order (server `j` of `M` covers `[j / M, (j + 1) / M)`).
 * A client's aperture is the arc `[i / N, i / N + size / M)`: it talks to the servers that arc
 * overlaps, each weighted by the share of its arc inside the aperture (1 inside, a fraction at the
 * edges). Since the apertures are equal arcs at even offsets, every point of the ring is covered by
 * `N × size / M` of them: each server carries the same share of load, and is in the subset of
 * `N × size / M` clients, one more at most where an aperture's edge falls inside it.
 *
 * ```text
 *            servers (M = 8):  |  0  |  1  |  2  |  3  |  4  |  5  |  6  |  7  |
 *   client 0 of 4, size 3:     [=================)                                 0, 1, 2
 *   client 1 of 4, size 3:                 [=================)                     2, 3, 4
 *   client 2 of 4, size 3:                             [=================)         4, 5, 6
 *   client 3 of 4, size 3:     ===)                                    [===========  6, 7, 0
 * ```
 *
 * Adding or removing a server or a client moves the arcs a little: most clients keep most of their
 * servers.
 *
 * @param servers The servers' addresses, sorted.
 * @param clients How many clients share the servers (`N`), and `index` this one's place among them.
 * @returns Each server of the aperture with its weight factor, in (0, 1].
 * @internal
 */
export function aperture(
  servers: readonly string[],
  index: number,
  clients: number,
  size: number,
): Map<string, number> {
  const m = servers.length;
  const subset = new Map<string, number>();
  if (m === 0) {
    return subset;
  }
  if (size >= m) {
    servers.forEach((server) => subset.set(server, 1));
    return subset;
  }
  // In units of servers: the aperture starts at index / clients of the ring and is `size` long.
  const start = (index / clients) * m;
  const end = start + size;
  for (let j = Math.floor(start); j < Math.ceil(end); j++) {
    const overlap = Math.min(end, j + 1) - Math.max(start, j);
    if (overlap > 1e-9) {
      const server = servers[j % m] as string;
      subset.set(server, Math.min(1, (subset.get(server) ?? 0) + overlap));
    }
  }
  return subset;
}

/**
 * This client's place among its peers, by address: its index when it is listed, else the place it
 * would take (so that a client not registered yet still gets a deterministic, spread-out aperture).
 * @internal
 */
export function placeAmong(
  peers: readonly string[],
  self: string,
): { readonly index: number; readonly clients: number } {
  const sorted = [...new Set(peers)].sort();
  const at = sorted.indexOf(self);
  if (at >= 0) {
    return { index: at, clients: sorted.length };
  }
  const index = sorted.findIndex((peer) => peer > self);
  return { index: index < 0 ? sorted.length : index, clients: sorted.length + 1 };
}

/**
 * This client's subset of `list`: the aperture over the endpoints a new call may go to (serving, else
 * draining, else failing), sorted by address, from this client's place among `peers`, with each
 * endpoint's share of its weight.
 * @internal
 */
export function subsetOf(
  list: readonly Endpoint[],
  peers: readonly Endpoint[],
  { size, self }: SubsetOptions,
): { list: readonly Endpoint[]; factors: ReadonlyMap<string, number> } {
  const servers = [...new Set(pickableEndpoints(list).map((endpoint) => endpoint.address))].sort();
  const { index, clients } = placeAmong(
    peers.map((peer) => peer.address),
    self,
  );
  const factors = aperture(servers, index, clients, size);
  return { list: list.filter((endpoint) => factors.has(endpoint.address)), factors };
}
