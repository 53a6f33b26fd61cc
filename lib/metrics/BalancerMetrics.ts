import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import type { Endpoint } from '../endpoint/Endpoint';
import { instrument } from './instruments';

/** An endpoint's attributes, made once for each outcome. */
interface EndpointAttributes {
  readonly success: Attributes;
  readonly failure: Attributes;
  readonly endpoint: Attributes;
}

/**
 * The instruments of a Balancer (see `INSTRUMENTS`), by service and outcome, and by endpoint address
 * too when asked (`endpointMetrics`): series per endpoint grow with every endpoint ever seen. Attributes
 * are made once per endpoint object (lists reuse the objects of unchanged endpoints), so that a call
 * allocates nothing for its metrics.
 * @internal
 */
export class BalancerMetrics {
  readonly #calls: Counter;
  readonly #retries: Counter;
  readonly #ejections: Counter;
  readonly #attributes = new WeakMap<Endpoint, EndpointAttributes>();
  readonly #perEndpoint: boolean;

  /** @param service The list's service when known: its retries and ejections start at 0. */
  constructor(meter: Meter, perEndpoint: boolean, service: string | undefined) {
    this.#perEndpoint = perEndpoint;
    this.#calls = instrument(meter, 'gsr.balancer.calls');
    this.#retries = instrument(meter, 'gsr.balancer.retries');
    this.#ejections = instrument(meter, 'gsr.balancer.ejections');
    if (service !== undefined && !perEndpoint) {
      this.#retries.add(0, { 'gsr.service': service });
      this.#ejections.add(0, { 'gsr.service': service });
    }
  }

  called(endpoint: Endpoint, ok: boolean): void {
    const attributes = this.#of(endpoint);
    this.#calls.add(1, ok ? attributes.success : attributes.failure);
  }

  retried(endpoint: Endpoint): void {
    this.#retries.add(1, this.#of(endpoint).endpoint);
  }

  ejected(endpoint: Endpoint): void {
    this.#ejections.add(1, this.#of(endpoint).endpoint);
  }

  #of(endpoint: Endpoint): EndpointAttributes {
    let attributes = this.#attributes.get(endpoint);
    if (attributes === undefined) {
      const base: Attributes = this.#perEndpoint
        ? { 'gsr.service': endpoint.service, 'gsr.endpoint.address': endpoint.address }
        : { 'gsr.service': endpoint.service };
      attributes = {
        success: Object.freeze({ ...base, 'gsr.outcome': 'success' }),
        failure: Object.freeze({ ...base, 'gsr.outcome': 'failure' }),
        endpoint: Object.freeze(base),
      };
      this.#attributes.set(endpoint, attributes);
    }
    return attributes;
  }
}
