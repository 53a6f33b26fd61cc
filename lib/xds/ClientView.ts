import { endpointLocality, type Locality } from '../locality/Locality';
import { escapeText } from '../text/escapeText';

/** The part of a `DiscoveryRequest`'s `node` gsr reads: who the client is and where. */
export interface AdsNode {
  readonly id?: string;
  /** The client's own service (Envoy's `--service-cluster`): with it, zone-aware routing. */
  readonly cluster?: string;
  readonly locality?: { readonly region?: string; readonly zone?: string } | null;
}

/**
 * What an assignment depends on for one client: its locality (`node.locality` from its bootstrap) and
 * its own service (`node.cluster`, when it is a valid service name). Clients with the same view share
 * one assignment per service; `key` names the view.
 */
export interface ClientView {
  readonly key: string;
  readonly caller: Locality;
  readonly callers: string | undefined;
}

/** A client that says nothing of where it is. */
export const NOWHERE: ClientView = Object.freeze({ key: '', caller: {}, callers: undefined });

/**
 * The view of a client from its `node`. What a client sends is untrusted: a zone or region that is not
 * a short printable name is read as absent, and a cluster that is no valid service name as none, each
 * with one call of `warn`.
 *
 * @example
 * ```ts
 * clientView({ cluster: 'web', locality: { zone: 'eu-1a' } }, () => true, console.warn);
 * // { key: '["eu-1a",null,"web"]', caller: { zone: 'eu-1a', region: undefined }, callers: 'web' }
 * ```
 */
export function clientView(
  node: AdsNode | null | undefined,
  isService: (name: string) => boolean,
  warn: (message: string) => void,
): ClientView {
  if (node === null || node === undefined) {
    return NOWHERE;
  }
  // The metadata rules, so that a client's zone means what an endpoint's does.
  const read = endpointLocality({
    service: 'xds',
    address: 'client',
    metadata: {
      zone: node.locality?.zone || undefined,
      region: node.locality?.region || undefined,
    },
  });
  const id = escapeText(node.id ?? '', 100);
  if (read.problem !== undefined) {
    warn(
      `xDS client "${id}" has a node.locality it cannot use: ${read.problem.replaceAll('metadata.', 'node.locality.')}`,
    );
  }
  let callers: string | undefined;
  if (node.cluster !== undefined && node.cluster !== '') {
    if (isService(node.cluster)) {
      callers = node.cluster;
    } else {
      warn(
        `xDS client "${id}" names node.cluster "${escapeText(node.cluster, 80)}", no valid service name: no zone-aware routing for it`,
      );
    }
  }
  const caller = { zone: read.zone, region: read.region };
  if (caller.zone === undefined && caller.region === undefined && callers === undefined) {
    return NOWHERE;
  }
  return {
    key: JSON.stringify([caller.zone ?? null, caller.region ?? null, callers ?? null]),
    caller,
    callers,
  };
}
