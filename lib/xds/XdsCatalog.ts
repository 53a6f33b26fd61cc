import {
  asyncScheduler,
  catchError,
  combineLatest,
  distinctUntilChanged,
  finalize,
  map,
  type Observable,
  of,
  ReplaySubject,
  share,
  switchMap,
  throttleTime,
} from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { messageOf } from '../errors/messageOf';
import type { OnceLog } from '../logging/OnceLog';
import type { Registry } from '../registry/Registry';
import { escapeText } from '../text/escapeText';
import { type ResourceKind, TYPE_URLS, type XdsProtos } from './xdsProtos';
import { type EncodedResource, loadAssignment, sameResource, staticResource } from './xdsResources';

/** What a client subscribed to, for one type: some names, or every one there is. */
export type Subscribed = readonly string[] | 'wildcard';

/** A set of resources by name. */
export type ResourceSet = ReadonlyMap<string, EncodedResource>;

const KINDS = new Map(
  Object.entries(TYPE_URLS).map(([kind, url]) => [url as string, kind as ResourceKind]),
);

/** The kind of resource a type URL names, `undefined` for one gsr does not serve. @internal */
export function kindOf(typeUrl: string): ResourceKind | undefined {
  return KINDS.get(typeUrl);
}

/**
 * The resources gsr serves, as streams of sets that clients subscribe to. A service's assignment is
 * made from its live list once per change however many clients follow it (shared, released with its
 * last subscriber), at most once per `coalesceMs` (the first change at once); the other resources are
 * static and made when asked for. A name exists when it is a valid service name (and one of `services`,
 * when given): a client may dial a service before its first instance registers.
 * @internal
 */
export class XdsCatalog {
  readonly #registry: Registry;
  readonly #protos: XdsProtos;
  readonly #names$: Observable<readonly string[]>;
  readonly #fixed: ReadonlySet<string> | undefined;
  readonly #coalesceMs: number;
  readonly #log: OnceLog;
  readonly #assignments = new Map<string, Observable<EncodedResource>>();
  /** Every listener, or every cluster: one set per kind, made once per change of the names for all. */
  readonly #wildcards = new Map<ResourceKind, Observable<ResourceSet>>();

  constructor(options: {
    registry: Registry;
    protos: XdsProtos;
    names$: Observable<readonly string[]>;
    fixed: readonly string[] | undefined;
    coalesceMs: number;
    log: OnceLog;
  }) {
    this.#registry = options.registry;
    this.#protos = options.protos;
    this.#names$ = options.names$;
    this.#fixed = options.fixed === undefined ? undefined : new Set(options.fixed);
    this.#coalesceMs = options.coalesceMs;
    this.#log = options.log;
  }

  /** How many services' assignments are followed now, for every client together. */
  get followed(): number {
    return this.#assignments.size;
  }

  /** The set of resources of `kind` that `subscribed` names, as it changes. */
  resources$(kind: ResourceKind, subscribed: Subscribed): Observable<ResourceSet> {
    if (subscribed !== 'wildcard') {
      return this.#setOf(kind, subscribed);
    }
    let wildcard$ = this.#wildcards.get(kind);
    if (wildcard$ === undefined) {
      wildcard$ = this.#names$.pipe(
        // What retrying cannot mend (a services root etcd refuses): every one there is, is none.
        catchError((error: unknown) => {
          this.#log.warn(`xDS serves no services to requests for all: ${messageOf(error)}`);
          return of<readonly string[]>([]);
        }),
        switchMap((names) => this.#setOf(kind, names)),
        finalize(() => this.#wildcards.delete(kind)),
        share({ connector: () => new ReplaySubject(1), resetOnRefCountZero: true }),
      );
      this.#wildcards.set(kind, wildcard$);
    }
    return wildcard$;
  }

  #setOf(kind: ResourceKind, names: readonly string[]): Observable<ResourceSet> {
    const existing = [...new Set(names)].filter((name) => this.#exists(name));
    if (existing.length === 0) {
      return of(new Map());
    }
    if (kind !== 'endpoints') {
      return of(new Map(existing.map((name) => [name, staticResource(this.#protos, kind, name)])));
    }
    return combineLatest(existing.map((name) => this.#assignment$(name))).pipe(
      map((resources) => new Map(resources.map((resource) => [resource.name, resource]))),
    );
  }

  #exists(name: string): boolean {
    if (this.#fixed !== undefined) {
      return this.#fixed.has(name);
    }
    try {
      this.#registry.validateService(name);
      return true;
    } catch {
      return false;
    }
  }

  #assignment$(service: string): Observable<EncodedResource> {
    let assignment$ = this.#assignments.get(service);
    if (assignment$ === undefined) {
      assignment$ = this.#registry.endpoints$(service).pipe(
        // A stream ends in error only for what retrying cannot mend (a name etcd refuses).
        catchError((error: unknown) => {
          this.#log.warn(
            `xDS serves service "${escapeText(service, 80)}" without endpoints: ${messageOf(error)}`,
          );
          return of<readonly Endpoint[]>([]);
        }),
        throttleTime(this.#coalesceMs, asyncScheduler, { leading: true, trailing: true }),
        map((list) =>
          loadAssignment(this.#protos, service, list, (message) => this.#log.warn(message)),
        ),
        distinctUntilChanged(sameResource),
        finalize(() => this.#assignments.delete(service)),
        share({ connector: () => new ReplaySubject(1), resetOnRefCountZero: true }),
      );
      this.#assignments.set(service, assignment$);
    }
    return assignment$;
  }
}
