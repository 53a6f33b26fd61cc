/**
 * Writes that teardowns started and nobody awaits (RxJS teardown is synchronous): deletes of
 * registrations' keys, revocation of the lease. `close()` drains them before closing the client.
 * @internal
 */
export class PendingWork {
  readonly #pending = new Set<Promise<void>>();

  /** Keeps `work` until it settles. Its outcome must already be handled (logged): it is ignored here. */
  track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  /** Resolves once everything tracked, including work tracked meanwhile, has settled. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) {
      await Promise.all(this.#pending);
    }
  }
}
