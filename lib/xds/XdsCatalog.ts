import {
  asyncScheduler,
  catchError,
  combineLatest,
  defer,
  distinctUntilChanged,
  finalize,
  map,
  Observable,
  of,
  ReplaySubject,
  share,
  type Subscription,
  switchMap,
  throttleTime,
} from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { messageOf } from '../errors/messageOf';
import type { OnceLog } from '../logging/OnceLog';
import type { WrrPolicy } from '../balancing/LoadWeight';
import type { LocalityPolicy } from '../locality/LocalityPolicy';
import type { Registry } from '../registry/Registry';
import { type ClientView, NOWHERE } from './ClientView';
import { escapeText } from '../text/escapeText';
import { type ResourceKind, TYPE_URLS, type XdsProtos } from './xdsProtos';
import { type EncodedResource, loadAssignment, sameResource, staticResource } from './xdsResources';

/** What a client subscribed to, for one type: some names, or every one there is. */
export type Subscribed = readonly string[] | 'wildcard';

/** A set of resources by name. */
type ResourceSet = ReadonlyMap<string, EncodedResource>;

/**
 * A set of resources of one type with its version, as go-control-plane's `Resources` in a snapshot: a
 * stream sends a set when its version is not the one it sent last, and compares nothing else.
 */
export interface VersionedSet {
  readonly version: string;
  readonly resources: ResourceSet;
}

const KINDS = new Map(
  Object.entries(TYPE_URLS).map(([kind, url]) => [url as string, kind as ResourceKind]),
);

/**
 * How many services of one request may wait for their first list at once. A client naming thousands
 * of services has them read a few at a time, so that another client's first answer never queues
 * behind all of them.
 */
const FIRST_LISTS_PER_REQUEST = 16;

/** The services that exist now (have endpoints), or `'any'`: follow every valid name asked for. */
type Existing = ReadonlySet<string> | 'any';

/** The kind of resource a type URL names, `undefined` for one gsr does not serve. @internal */
export function kindOf(typeUrl: string): ResourceKind | undefined {
  return KINDS.get(typeUrl);
}

/**
 * The resources gsr serves, as streams of versioned sets that clients subscribe to ({@link VersionedSet}).
 * Every set is stamped with the catalog's revision, which grows with each set made, as etcd's revision
 * grows with each write: the same subscription shares one stream of sets, so its clients see the same
 * versions, and a stream compares versions where it would otherwise compare every resource of every
 * set for every client. (Lists reach the catalog through `endpoints\$`, which also serves kept lists
 * and snapshots that no etcd revision names; hence a revision of its own.) A service's assignment is
 * made from its live list once per change however many clients follow it (shared, released with its
 * last subscriber), at most once per `coalesceMs` (the first change at once); the other resources are
 * static and made when asked for. A name exists when it is a valid service name (and one of `services`,
 * when given): a client may dial a service before its first instance registers.
 *
 * What a client asks for costs what exists: a name no service has now (the registry's list of
 * services says so) is answered with an empty assignment and watches nothing, until the service
 * appears; and one request's services wait for their first lists {@link FIRST_LISTS_PER_REQUEST} at a
 * time.
 * @internal
 */
export class XdsCatalog {
  readonly #registry: Registry;
  readonly #protos: XdsProtos;
  readonly #names$: Observable<readonly string[]>;
  readonly #fixed: ReadonlySet<string> | undefined;
  readonly #coalesceMs: number;
  readonly #log: OnceLog;
  readonly #policy: LocalityPolicy;
  readonly #wrrOf: (service: string) => WrrPolicy | undefined;
  readonly #assignments = new Map<string, Observable<EncodedResource>>();
  /** The services that exist now, shared by every request for assignments. */
  readonly #existing$: Observable<Existing>;
  /** Every listener, or every cluster: one set per kind, made once per change of the names for all. */
  readonly #wildcards = new Map<string, Observable<VersionedSet>>();
  /** The catalog's revision: the version of the last set made. */
  #revision = 0;

  constructor(options: {
    registry: Registry;
    protos: XdsProtos;
    names$: Observable<readonly string[]>;
    fixed: readonly string[] | undefined;
    coalesceMs: number;
    log: OnceLog;
    policy: LocalityPolicy;
    /** The weighted round robin settings of a service whose clients weigh endpoints, else `undefined`. */
    wrrOf?: (service: string) => WrrPolicy | undefined;
  }) {
    this.#policy = options.policy;
    this.#wrrOf = options.wrrOf ?? (() => undefined);
    this.#registry = options.registry;
    this.#protos = options.protos;
    this.#names$ = options.names$;
    this.#fixed = options.fixed === undefined ? undefined : new Set(options.fixed);
    this.#coalesceMs = options.coalesceMs;
    this.#log = options.log;
    this.#existing$ =
      this.#fixed !== undefined || !options.registry.listsServices
        ? of('any')
        : options.names$.pipe(
            map((names): Existing => new Set(names)),
            // Without the list of services, every name asked for is followed, as it was asked.
            catchError(() => of<Existing>('any')),
            share({ connector: () => new ReplaySubject(1), resetOnRefCountZero: true }),
          );
  }

  /** How many services' assignments are followed now, for every client together. */
  get followed(): number {
    return this.#assignments.size;
  }

  /**
   * The set of resources of `kind` that `subscribed` names, as it changes; assignments as `view` (the
   * client's locality and service) should have them.
   */
  resources$(
    kind: ResourceKind,
    subscribed: Subscribed,
    view: ClientView = NOWHERE,
  ): Observable<VersionedSet> {
    if (subscribed !== 'wildcard') {
      return this.#setOf(kind, subscribed, view);
    }
    // Only assignments differ from one view to another.
    const key = kind === 'endpoints' ? `${kind}|${view.key}` : kind;
    let wildcard$ = this.#wildcards.get(key);
    if (wildcard$ === undefined) {
      wildcard$ = this.#names$.pipe(
        // What retrying cannot mend (a services root etcd refuses): every one there is, is none.
        catchError((error: unknown) => {
          this.#log.warn(`xDS serves no services to requests for all: ${messageOf(error)}`);
          return of<readonly string[]>([]);
        }),
        switchMap((names) => this.#setOf(kind, names, view)),
        finalize(() => this.#wildcards.delete(key)),
        share({ connector: () => new ReplaySubject(1), resetOnRefCountZero: true }),
      );
      this.#wildcards.set(key, wildcard$);
    }
    return wildcard$;
  }

  #setOf(kind: ResourceKind, names: readonly string[], view: ClientView): Observable<VersionedSet> {
    const existing = [...new Set(names)].filter((name) => this.#exists(name));
    if (existing.length === 0) {
      return defer(() => of(this.#versioned(new Map())));
    }
    if (kind !== 'endpoints') {
      return defer(() =>
        of(
          this.#versioned(
            new Map(
              existing.map((name) => [
                name,
                staticResource(this.#protos, kind, name, this.#wrrOf(name)),
              ]),
            ),
          ),
        ),
      );
    }
    return this.#assignments$(existing, view);
  }

  /** `resources` as the catalog's next revision. */
  #versioned(resources: ResourceSet): VersionedSet {
    this.#revision += 1;
    return { version: String(this.#revision), resources };
  }

  /**
   * The assignments of `names`, once each has one, then as any changes. A name whose service does not
   * exist has an empty assignment and follows nothing; one that exists is followed, at most
   * {@link FIRST_LISTS_PER_REQUEST} waiting for their first list at a time. A service that appears
   * later keeps its empty assignment until its first list arrives.
   */
  #assignments$(names: readonly string[], view: ClientView): Observable<VersionedSet> {
    return new Observable<VersionedSet>((subscriber) => {
      /** Each name's assignment now: `undefined` until its service's first list (or its absence) is known. */
      const resources = new Map<string, EncodedResource | undefined>(
        names.map((name) => [name, undefined]),
      );
      /** Names whose service exists, followed; `awaiting` until their first list. */
      const followed = new Map<string, { subscription?: Subscription; awaiting: boolean }>();
      /** Names whose service exists, waiting for a turn to be followed (a Set keeps their order). */
      const queued = new Set<string>();
      let awaiting = 0;
      /** How many names have no assignment yet: the set is sent once there are none. */
      let missing = resources.size;
      /** Whether an assignment changed since the set was last sent. */
      let changed = false;
      const set = (name: string, resource: EncodedResource): void => {
        const before = resources.get(name);
        missing -= before === undefined ? 1 : 0;
        changed ||= before !== resource;
        resources.set(name, resource);
      };
      const emit = (): void => {
        if (missing === 0 && changed) {
          changed = false;
          subscriber.next(this.#versioned(new Map(resources as Map<string, EncodedResource>)));
        }
      };
      let following = false;
      const follow = (): void => {
        if (following) {
          return; // A list replayed at once frees its turn inside the loop below: it goes on.
        }
        following = true;
        for (const name of queued) {
          if (awaiting >= FIRST_LISTS_PER_REQUEST) {
            break;
          }
          queued.delete(name);
          const state: { subscription?: Subscription; awaiting: boolean } = { awaiting: true };
          followed.set(name, state);
          awaiting += 1;
          state.subscription = this.#assignment$(name, view).subscribe((resource) => {
            set(name, resource);
            if (state.awaiting) {
              state.awaiting = false;
              awaiting -= 1;
              follow();
            }
            emit();
          });
        }
        following = false;
      };
      const absent = (name: string): void => {
        const state = followed.get(name);
        if (state !== undefined) {
          followed.delete(name);
          state.subscription?.unsubscribe();
          awaiting -= state.awaiting ? 1 : 0;
        } else if (!queued.delete(name) && resources.get(name) !== undefined) {
          return; // Absent already: its empty assignment stands.
        }
        set(
          name,
          loadAssignment(this.#protos, name, [], (text) => this.#log.warn(text)),
        );
      };
      subscriber.add(
        this.#existing$.subscribe((existing) => {
          for (const name of names) {
            if (existing !== 'any' && !existing.has(name)) {
              absent(name);
            } else if (!followed.has(name) && !queued.has(name)) {
              // A service that appears later keeps its empty assignment until its first list.
              queued.add(name);
            }
          }
          follow();
          emit();
        }),
      );
      return () => followed.forEach((state) => state.subscription?.unsubscribe());
    });
  }

  /** Whether `name` is a valid service name (its service may have no endpoint yet). */
  isService(name: string): boolean {
    try {
      this.#registry.validateService(name);
      return true;
    } catch {
      return false;
    }
  }

  #exists(name: string): boolean {
    return this.#fixed !== undefined ? this.#fixed.has(name) : this.isService(name);
  }

  /**
   * A service's assignment for clients of `view`, shared by them: made from the service's live list and,
   * when the clients named their own service, that service's list (its callers per zone).
   */
  #assignment$(service: string, view: ClientView): Observable<EncodedResource> {
    const key = `${view.key}\u0000${service}`;
    let assignment$ = this.#assignments.get(key);
    if (assignment$ === undefined) {
      const callers$: Observable<readonly Endpoint[] | undefined> =
        view.callers === undefined
          ? of(undefined)
          : this.#registry.endpoints$(view.callers).pipe(
              map((list): readonly Endpoint[] | undefined => list),
              // Without the callers' list, zones are weighed as if they were not known.
              catchError(() => of(undefined)),
            );
      assignment$ = combineLatest([this.#listOf$(service), callers$]).pipe(
        throttleTime(this.#coalesceMs, asyncScheduler, { leading: true, trailing: true }),
        map(([list, callers]) =>
          loadAssignment(this.#protos, service, list, (message) => this.#log.warn(message), {
            caller: view.caller,
            callers,
            zoneAware: view.callers !== undefined,
            policy: this.#policy,
            weighsEndpoints: this.#wrrOf(service) !== undefined,
          }),
        ),
        distinctUntilChanged(sameResource),
        finalize(() => this.#assignments.delete(key)),
        share({ connector: () => new ReplaySubject(1), resetOnRefCountZero: true }),
      );
      this.#assignments.set(key, assignment$);
    }
    return assignment$;
  }

  /** A service's live list; empty, with one log line, when etcd refuses the name for good. */
  #listOf$(service: string): Observable<readonly Endpoint[]> {
    return this.#registry.endpoints$(service).pipe(
      // A stream ends in error only for what retrying cannot mend (a name etcd refuses).
      catchError((error: unknown) => {
        this.#log.warn(
          `xDS serves service "${escapeText(service, 80)}" without endpoints: ${messageOf(error)}`,
        );
        return of<readonly Endpoint[]>([]);
      }),
    );
  }
}
