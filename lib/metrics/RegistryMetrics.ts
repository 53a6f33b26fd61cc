import type {
  Attributes,
  BatchObservableResult,
  Counter,
  Histogram,
  Meter,
  ObservableGauge,
  UpDownCounter,
} from '@opentelemetry/api';
import { instrument } from './instruments';

/** What a registry's gauges read when the SDK collects. */
interface RegistryGauges {
  /** Each watched service with the number of endpoints in its live list. */
  endpointCounts(): Iterable<readonly [service: string, endpoints: number]>;
  /** Whether etcd answers. */
  connected(): boolean;
  /** Milliseconds since etcd last answered. */
  silenceMs(): number;
}

/**
 * The instruments of one registry (see `INSTRUMENTS`). With no OpenTelemetry SDK installed they are the
 * API's no-ops: recording costs a call that does nothing.
 * @internal
 */
export class RegistryMetrics {
  readonly watchedServices: UpDownCounter;
  readonly watchStarts: Counter;
  readonly watchResumes: Counter;
  readonly watchRereads: Counter;
  readonly liveRegistrations: UpDownCounter;
  readonly rewrites: Counter;
  readonly leaseGrants: Counter;
  readonly leaseLosses: Counter;
  readonly requestDuration: Histogram;
  readonly propagation: Histogram;
  readonly #meter: Meter;
  readonly #endpoints: ObservableGauge;
  readonly #health: ObservableGauge;
  readonly #silence: ObservableGauge;
  /** One attributes object per distinct value: recording allocates nothing. */
  readonly #attributes = new Map<string, Attributes>();

  constructor(meter: Meter) {
    this.#meter = meter;
    this.watchedServices = instrument(meter, 'gsr.discovery.services');
    this.watchStarts = instrument(meter, 'gsr.discovery.watch.starts');
    this.watchResumes = instrument(meter, 'gsr.discovery.watch.resumes');
    this.watchRereads = instrument(meter, 'gsr.discovery.watch.rereads');
    this.liveRegistrations = instrument(meter, 'gsr.registration.live');
    this.rewrites = instrument(meter, 'gsr.registration.rewrites');
    this.leaseGrants = instrument(meter, 'gsr.lease.grants');
    this.leaseLosses = instrument(meter, 'gsr.lease.losses');
    this.requestDuration = instrument(meter, 'gsr.etcd.request.duration');
    this.propagation = instrument(meter, 'gsr.discovery.propagation');
    this.#endpoints = instrument(meter, 'gsr.discovery.endpoints');
    this.#health = instrument(meter, 'gsr.etcd.health');
    this.#silence = instrument(meter, 'gsr.etcd.silence');
    // What users alert on has a series from the start: a rate over nothing is no rate at all.
    this.leaseLosses.add(0);
    this.rewrites.add(0);
    this.watchResumes.add(0);
    for (const reason of ['cancelled', 'revision_went_back', 'store_replaced', 'cluster_changed']) {
      this.watchRereads.add(0, { 'gsr.reason': reason });
    }
  }

  /** The attributes of an etcd request's duration: its gRPC method and outcome (`ok` or a status). */
  requestAttributes(operation: string, outcome: string): Attributes {
    const key = `${operation} ${outcome}`;
    let attributes = this.#attributes.get(key);
    if (attributes === undefined) {
      attributes = Object.freeze({ 'gsr.etcd.operation': operation, 'gsr.etcd.outcome': outcome });
      this.#attributes.set(key, attributes);
    }
    return attributes;
  }

  /**
   * Reports the gauges from `gauges` at each collection, until the returned function is called (when
   * the registry closes: a closed registry reports nothing, and is not kept alive by the meter).
   */
  observe(gauges: RegistryGauges): () => void {
    const callback = (result: BatchObservableResult): void => {
      for (const [service, endpoints] of gauges.endpointCounts()) {
        result.observe(this.#endpoints, endpoints, { 'gsr.service': service });
      }
      result.observe(this.#health, gauges.connected() ? 1 : 0);
      result.observe(this.#silence, gauges.silenceMs() / 1000);
    };
    const observables = [this.#endpoints, this.#health, this.#silence];
    this.#meter.addBatchObservableCallback(callback, observables);
    return () => this.#meter.removeBatchObservableCallback(callback, observables);
  }
}
