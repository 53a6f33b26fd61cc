import { status } from '@grpc/grpc-js';
import { Subscription } from 'rxjs';
import { messageOf } from '../errors/messageOf';
import type { LogBudget } from '../logging/LogBudget';
import { escapeText } from '../text/escapeText';
import { type AdsNode, type ClientView, clientView, NOWHERE } from './ClientView';
import { kindOf, type Subscribed, type VersionedSet, type XdsCatalog } from './XdsCatalog';
import type { EncodedResource } from './xdsResources';

/** The most characters of a client's own text (a NACK's message) that a log line repeats. */
const MAX_CLIENT_TEXT = 200;

/** The fields of a `DiscoveryRequest` gsr reads. */
export interface AdsRequest {
  readonly type_url: string;
  readonly resource_names: readonly string[];
  readonly version_info: string;
  readonly response_nonce: string;
  readonly error_detail?: { readonly code?: number; readonly message?: string } | null;
  readonly node?: AdsNode | null;
}

/** A `DiscoveryResponse`. */
export interface AdsResponse {
  readonly version_info: string;
  readonly resources: readonly EncodedResource[];
  readonly type_url: string;
  readonly nonce: string;
}

/** What every stream counts into, for the server's `stats()`. */
export interface AdsCounters {
  responses: number;
  acks: number;
  nacks: number;
  /** Requests of a type URL gsr does not serve. */
  unknownTypes: number;
  /** Requests ignored for a nonce that is not the last one sent (the spec's stale requests). */
  stale: number;
}

/** What a stream sends to, and how it ends. */
interface AdsPeer {
  send(response: AdsResponse): void;
  /** Ends the stream with a gRPC status: the client asked for what it must not. */
  refuse(code: status, message: string): void;
}

/** One type's subscription on a stream. */
interface TypeState {
  subscribed: Subscribed;
  subscription: Subscription | undefined;
  /** The resources of the subscription now; `undefined` until they are first known. */
  latest: VersionedSet | undefined;
  /** The version of the last response. */
  sent: string | undefined;
  /** The nonce of the last response; a request with another (but for none) is stale. */
  nonce: string | undefined;
  /** Whether the last response awaits its ACK or NACK: no other is sent meanwhile. */
  inFlight: boolean;
}

/** Limits of one stream. */
interface AdsLimits {
  /** The most resource names one request may subscribe to, for one type. */
  readonly maxResourceNames: number;
  /** The most type URLs one stream may subscribe to (gsr serves four). */
  readonly maxTypes: number;
}

/**
 * One Aggregated Discovery Service stream (xDS v3, state of the world), as the xDS protocol has it:
 * per type URL, a subscription (names, or all for a listener or cluster request without names), the
 * version last sent and a nonce. A response goes out when the catalog's set for the subscription has
 * another version than the one last sent (versions are compared, never resources: go-control-plane's
 * way), and never while the last one awaits its ACK or NACK: however fast the registry changes, a client is
 * sent at most one response per round trip, the latest, and one that never answers is sent one. A NACK
 * is logged and counted, and the rejected resources are not sent again until they change. Requests
 * with a stale nonce are ignored, as the protocol says.
 * @internal
 */
export class AdsStream {
  readonly #catalog: XdsCatalog;
  readonly #peer: AdsPeer;
  readonly #limits: AdsLimits;
  readonly #counters: AdsCounters;
  readonly #log: LogBudget;
  readonly #types = new Map<string, TypeState>();
  #nonces = 0;
  #node = '';
  /** Whether the client's node was read; what its assignments depend on. */
  #named = false;
  #view: ClientView = NOWHERE;
  #closed = false;

  constructor(options: {
    catalog: XdsCatalog;
    peer: AdsPeer;
    limits: AdsLimits;
    counters: AdsCounters;
    /** Where what clients did wrong is said: they decide how often, so it is bounded. */
    log: LogBudget;
  }) {
    this.#catalog = options.catalog;
    this.#peer = options.peer;
    this.#limits = options.limits;
    this.#counters = options.counters;
    this.#log = options.log;
  }

  /** Takes one request from the client. */
  receive(request: AdsRequest): void {
    if (this.#closed) {
      return;
    }
    if (!this.#named && request.node !== undefined && request.node !== null) {
      // The node comes with the first request (clients may leave it out of later ones): read once.
      this.#named = true;
      this.#node = escapeText(request.node.id ?? '', 100);
      this.#view = clientView(
        request.node,
        (name) => this.#catalog.isService(name),
        (message) => this.#log.warn(message),
      );
    }
    const typeUrl = request.type_url;
    if (typeUrl === '') {
      this.#refuse(status.INVALID_ARGUMENT, 'a request without type_url: ADS needs one');
      return;
    }
    let state = this.#types.get(typeUrl);
    if (
      state !== undefined &&
      request.response_nonce !== '' &&
      request.response_nonce !== state.nonce
    ) {
      this.#counters.stale += 1;
      return;
    }
    if (request.resource_names.length > this.#limits.maxResourceNames) {
      this.#refuse(
        status.RESOURCE_EXHAUSTED,
        `a request for ${request.resource_names.length} resources of ${escapeText(typeUrl, 200)}; at most ${this.#limits.maxResourceNames}`,
      );
      return;
    }
    if (state === undefined) {
      if (this.#types.size >= this.#limits.maxTypes) {
        this.#refuse(
          status.RESOURCE_EXHAUSTED,
          `subscriptions to ${this.#types.size + 1} type URLs; at most ${this.#limits.maxTypes}`,
        );
        return;
      }
      state = {
        subscribed: [],
        subscription: undefined,
        latest: undefined,
        sent: undefined,
        nonce: undefined,
        inFlight: false,
      };
      this.#types.set(typeUrl, state);
    }
    if (request.response_nonce !== '' && request.response_nonce === state.nonce && state.inFlight) {
      // Only the first answer to a response counts: the same nonce again is a new subscription at most.
      state.inFlight = false;
      this.#acknowledged(typeUrl, request);
    }
    this.#subscribe(typeUrl, state, subscribedBy(typeUrl, request.resource_names));
    this.#maybeSend(typeUrl, state);
  }

  /** Releases every subscription; nothing more is sent. */
  close(): void {
    this.#closed = true;
    this.#types.forEach((state) => state.subscription?.unsubscribe());
    this.#types.clear();
  }

  #acknowledged(typeUrl: string, request: AdsRequest): void {
    const error = request.error_detail;
    if (error === undefined || error === null || (!error.code && !error.message)) {
      this.#counters.acks += 1;
      return;
    }
    this.#counters.nacks += 1;
    this.#log.warn(
      `xDS client "${this.#node}" rejected ${escapeText(typeUrl, 200)} version ${escapeText(request.version_info, 40)}: ` +
        `${escapeText(error.message ?? '', MAX_CLIENT_TEXT)} (not sent again until it changes)`,
    );
  }

  #subscribe(typeUrl: string, state: TypeState, subscribed: Subscribed): void {
    if (state.subscription !== undefined && sameSubscription(state.subscribed, subscribed)) {
      return;
    }
    state.subscription?.unsubscribe();
    state.subscribed = subscribed;
    state.latest = undefined;
    const kind = kindOf(typeUrl);
    if (kind === undefined) {
      this.#counters.unknownTypes += 1;
      this.#log.warn(
        `xDS client "${this.#node}" asked for ${escapeText(typeUrl, 200)}, which gsr does not serve: answered with no resources`,
      );
      state.latest = { version: '0', resources: new Map() };
      state.subscription = Subscription.EMPTY;
      return;
    }
    state.subscription = this.#catalog.resources$(kind, subscribed, this.#view).subscribe({
      next: (resources) => {
        state.latest = resources;
        this.#maybeSend(typeUrl, state);
      },
      // The catalog's streams do not fail; should one, this stream ends, never the process.
      error: (error: unknown) => this.#refuse(status.UNAVAILABLE, messageOf(error)),
    });
  }

  #maybeSend(typeUrl: string, state: TypeState): void {
    const { latest } = state;
    if (this.#closed || state.inFlight || latest === undefined || latest.version === state.sent) {
      return;
    }
    this.#nonces += 1;
    state.nonce = String(this.#nonces);
    state.sent = latest.version;
    state.inFlight = true;
    this.#counters.responses += 1;
    this.#peer.send({
      version_info: latest.version,
      resources: [...latest.resources.values()],
      type_url: typeUrl,
      nonce: state.nonce,
    });
  }

  #refuse(code: status, message: string): void {
    this.close();
    this.#peer.refuse(code, message);
  }
}

/**
 * What a request's names subscribe to: for listeners and clusters, none (or `*`) means every one there
 * is (what Envoy asks); for routes and assignments, exactly the names.
 */
function subscribedBy(typeUrl: string, names: readonly string[]): Subscribed {
  const kind = kindOf(typeUrl);
  const wildcardable = kind === 'listener' || kind === 'cluster';
  if (wildcardable && (names.length === 0 || names.includes('*'))) {
    return 'wildcard';
  }
  return [...new Set(names)].sort();
}

function sameSubscription(a: Subscribed, b: Subscribed): boolean {
  if (a === 'wildcard' || b === 'wildcard') {
    return a === b;
  }
  return a.length === b.length && a.every((name, i) => name === b[i]);
}
