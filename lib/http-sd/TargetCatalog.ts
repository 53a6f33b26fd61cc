import { randomBytes } from 'node:crypto';
import type { Observable, Subscription } from 'rxjs';
import type { Endpoint } from '../endpoint/Endpoint';
import { messageOf } from '../errors/messageOf';
import { OnceLog } from '../logging/OnceLog';
import type { Registry } from '../registry/Registry';
import { targetGroupsOf } from './targetGroups';

/** An answer ready to send: its body and the tag that names this version of it. */
interface CatalogAnswer {
  readonly body: Buffer;
  readonly etag: string;
}

interface Followed {
  /** Set once subscribed: a list may arrive while subscribing. */
  subscription?: Subscription;
  /** The latest list; `undefined` until its first arrives. */
  list: readonly Endpoint[] | undefined;
  /** The list's target groups as JSON (without brackets), made when first asked for. */
  json: string | undefined;
  /** The catalog's generation when this service last changed. */
  changed: number;
}

/**
 * Every followed service's target groups, kept from the registry's shared streams: a scrape reads what
 * is here (no etcd request), and the JSON of a service is made once per change, when first asked for.
 * Each answer carries an ETag: the generation at which it last changed, behind a tag of this catalog
 * (a restarted server never matches its predecessor's tags).
 * @internal
 */
export class TargetCatalog {
  readonly #registry: Registry;
  readonly #names$: Observable<readonly string[]>;
  readonly #log: OnceLog;
  readonly #tag = randomBytes(6).toString('base64url');
  readonly #services = new Map<string, Followed>();
  #names: readonly string[] | undefined;
  #namesSubscription: Subscription | undefined;
  #generation = 0;
  #all: CatalogAnswer | undefined;
  #problem: string | undefined;
  /** How many followed services have no first list yet. */
  #unread = 0;
  /** Requests waiting for the lists they need, each with the services it asked for (all: `undefined`). */
  readonly #waiting = new Map<() => void, readonly string[] | undefined>();

  constructor(registry: Registry, names$: Observable<readonly string[]>) {
    this.#registry = registry;
    this.#names$ = names$;
    this.#log = new OnceLog(registry.logger);
  }

  /**
   * Whether an answer about `services` (every service when `undefined`) can be given: the names have
   * arrived, and the first list of each of those services that has endpoints. A service still being
   * read does not hold back an answer about another.
   */
  readyFor(services?: readonly string[]): boolean {
    if (this.#names === undefined) {
      return false;
    }
    if (services === undefined) {
      return this.#unread === 0;
    }
    return services.every(
      (service) => this.#services.get(service)?.list !== undefined || !this.has(service),
    );
  }

  /** Why the services cannot be followed, once their list failed; `undefined` otherwise. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /**
   * Starts following the services (the first call does), and resolves when an answer about `services`
   * (every service when `undefined`) can be given ({@link TargetCatalog.readyFor}) or after
   * `timeoutMs`, whichever comes first.
   */
  whenReady(timeoutMs: number, services?: readonly string[]): Promise<void> {
    this.#namesSubscription ??= this.#names$.subscribe({
      next: (names) => this.#follow(names),
      error: (error: unknown) => {
        this.#problem = messageOf(error);
        this.#wake();
      },
    });
    if (this.readyFor(services) || this.#problem !== undefined) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiting.set(done, services);
    });
  }

  /** Whether `service` is one this catalog serves now. */
  has(service: string): boolean {
    return this.#services.has(service);
  }

  /** Every service's target groups, in the order of their names. */
  all(): CatalogAnswer {
    this.#all ??= {
      body: Buffer.from(
        `[${(this.#names ?? [])
          .map((service) => this.#jsonOf(service))
          .filter((json) => json !== '')
          .join(',')}]`,
      ),
      etag: `"${this.#tag}-${this.#generation}"`,
    };
    return this.#all;
  }

  /** The target groups of `services`, in that order; none for a service without endpoints. */
  some(services: readonly string[]): CatalogAnswer {
    const json = services.map((service) => this.#jsonOf(service)).filter((groups) => groups !== '');
    const changed = services.map((service) => `s${this.#services.get(service)?.changed ?? 0}`);
    return {
      body: Buffer.from(`[${json.join(',')}]`),
      etag: `"${this.#tag}-${changed.join('.')}"`,
    };
  }

  /** Releases every subscription; the catalog serves nothing more. */
  close(): void {
    this.#namesSubscription?.unsubscribe();
    this.#services.forEach(({ subscription }) => subscription?.unsubscribe());
    this.#services.clear();
    this.#unread = 0;
    this.#wake();
  }

  #follow(names: readonly string[]): void {
    const current = new Set(names);
    for (const [service, { subscription, list }] of this.#services) {
      if (!current.has(service)) {
        subscription?.unsubscribe();
        this.#services.delete(service);
        this.#unread -= list === undefined ? 1 : 0;
      }
    }
    this.#names = names;
    for (const service of names) {
      if (!this.#services.has(service)) {
        const followed: Followed = { list: undefined, json: undefined, changed: 0 };
        this.#services.set(service, followed);
        this.#unread += 1;
        followed.subscription = this.#watch(service, followed);
      }
    }
    this.#changed();
  }

  #watch(service: string, followed: Followed): Subscription {
    return this.#registry.endpoints$(service).subscribe({
      next: (list) => {
        this.#unread -= followed.list === undefined ? 1 : 0;
        followed.list = list;
        followed.json = undefined;
        followed.changed = this.#changed();
      },
      // A service's stream ends in error only for what retrying cannot mend (a name etcd refuses):
      // it is served without endpoints, and said once.
      error: (error: unknown) => {
        this.#log.warn(
          `http-sd serves service "${service}" without endpoints: ${messageOf(error)}`,
        );
        this.#unread -= followed.list === undefined ? 1 : 0;
        followed.list = [];
        followed.json = '';
        followed.changed = this.#changed();
      },
    });
  }

  #jsonOf(service: string): string {
    const followed = this.#services.get(service);
    if (followed === undefined || followed.list === undefined) {
      return '';
    }
    followed.json ??= targetGroupsOf(service, followed.list, (message) => this.#log.warn(message))
      .map((group) => JSON.stringify(group))
      .join(',');
    return followed.json;
  }

  #changed(): number {
    this.#generation += 1;
    this.#all = undefined;
    for (const [done, services] of [...this.#waiting]) {
      if (this.readyFor(services)) {
        done();
      }
    }
    return this.#generation;
  }

  #wake(): void {
    [...this.#waiting.keys()].forEach((done) => done());
  }
}
