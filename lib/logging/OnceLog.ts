/** Where warnings go: a winston logger, or anything with its `warn`. @internal */
export interface WarnLog {
  warn(message: string, fields?: Readonly<Record<string, unknown>>): unknown;
}

/** How many distinct messages are remembered before the memory starts afresh. */
const REMEMBERED = 1024;

/**
 * Warns about data someone else wrote (a malformed key, a value that is not metadata) once, not on
 * every re-read of the same key: a re-read after compaction, a second stream over the same prefix and a
 * writer repeating itself all stay one log line. The memory is bounded: after 1024 distinct warnings it
 * starts afresh, so a flood of hostile keys costs log lines, never unbounded memory.
 * @internal
 */
export class OnceLog {
  readonly #logger: WarnLog;
  #seen = new Set<string>();

  constructor(logger: WarnLog) {
    this.#logger = logger;
  }

  /** Logs `message` at warn level unless it was logged already. */
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void {
    if (this.#seen.has(message)) {
      return;
    }
    if (this.#seen.size >= REMEMBERED) {
      this.#seen = new Set();
    }
    this.#seen.add(message);
    this.#logger.warn(message, fields);
  }
}
