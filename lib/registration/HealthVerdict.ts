/**
 * A health check's verdict from its outcomes: the first outcome decides at once (an instance is not
 * listed serving before it passed once, nor held back once it has); afterwards `unhealthyAfter`
 * failures in a row make it failing, and `healthyAfter` passes in a row serving again, so that one slow
 * check does not flap it.
 * @internal
 */
export class HealthVerdict {
  #state: 'serving' | 'failing' | undefined;
  #streak = 0;

  constructor(
    readonly unhealthyAfter: number,
    readonly healthyAfter: number,
  ) {}

  /** `undefined` until the first outcome. */
  get state(): 'serving' | 'failing' | undefined {
    return this.#state;
  }

  /** Records one outcome: whether the state changed. */
  record(passed: boolean): boolean {
    const against = passed ? 'failing' : 'serving';
    if (this.#state === undefined) {
      this.#state = passed ? 'serving' : 'failing';
      return true;
    }
    if (this.#state !== against) {
      this.#streak = 0;
      return false;
    }
    this.#streak += 1;
    if (this.#streak < (passed ? this.healthyAfter : this.unhealthyAfter)) {
      return false;
    }
    this.#state = passed ? 'serving' : 'failing';
    this.#streak = 0;
    return true;
  }
}
