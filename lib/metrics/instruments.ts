import type {
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  ObservableGauge,
  UpDownCounter,
} from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';

/** The instrumentation scope every gsr instrument belongs to. */
const METER_NAME = 'gsr';

/**
 * etcd requests take from a fraction of a millisecond (a local range) to the request timeout (5 s by
 * default): the SDK's default buckets are made for milliseconds, these for seconds.
 */
const DURATION_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** How an instrument is made: its kind, unit and description. */
interface InstrumentSpec {
  readonly kind: 'counter' | 'updowncounter' | 'histogram' | 'gauge';
  readonly unit: string;
  readonly description: string;
  /** The attributes it records, in the README's words. */
  readonly attributes: readonly string[];
}

/**
 * Every instrument gsr records, by name: the one list the code makes them from and the README's table is
 * checked against. Names follow OpenTelemetry's semantic-convention style (dotted namespaces, UCUM units,
 * annotations in braces, no `_total`).
 */
export const INSTRUMENTS = {
  'gsr.discovery.services': {
    kind: 'updowncounter',
    unit: '{service}',
    description:
      'Services whose endpoints are watched: the application streams, and those a registry watches to guard its own registrations (one per service)',
    attributes: [],
  },
  'gsr.discovery.endpoints': {
    kind: 'gauge',
    unit: '{endpoint}',
    description: 'Endpoints in the live list of each watched service',
    attributes: ['gsr.service'],
  },
  'gsr.discovery.watch.starts': {
    kind: 'counter',
    unit: '{watch}',
    description: 'Prefixes read and watched from the start (a first subscriber)',
    attributes: [],
  },
  'gsr.discovery.watch.resumes': {
    kind: 'counter',
    unit: '{watch}',
    description: 'Attempts to start a broken watch again, after the last revision applied',
    attributes: [],
  },
  'gsr.discovery.watch.rereads': {
    kind: 'counter',
    unit: '{watch}',
    description:
      'Prefixes read again in full: etcd cancelled the watch (a compacted revision), its revision went back, or its data did not match a resumed list',
    attributes: ['gsr.reason'],
  },
  'gsr.registration.live': {
    kind: 'updowncounter',
    unit: '{registration}',
    description: 'Registrations subscribed',
    attributes: [],
  },
  'gsr.registration.rewrites': {
    kind: 'counter',
    unit: '{key}',
    description:
      'Keys written again while registered: on a new lease, or after someone deleted them',
    attributes: [],
  },
  'gsr.lease.grants': {
    kind: 'counter',
    unit: '{lease}',
    description: 'Leases granted',
    attributes: [],
  },
  'gsr.lease.losses': {
    kind: 'counter',
    unit: '{lease}',
    description: 'Leases lost while registrations held them (expired, revoked or unknown to etcd)',
    attributes: [],
  },
  'gsr.etcd.request.duration': {
    kind: 'histogram',
    unit: 's',
    description: 'Duration of the unary etcd requests gsr made, by gRPC method and outcome',
    attributes: ['gsr.etcd.operation', 'gsr.etcd.outcome'],
  },
  'gsr.discovery.propagation': {
    kind: 'histogram',
    unit: 's',
    description:
      "Time from a stamped gsr write (GSR_STAMP_WRITES on the writer) to its arrival in this registry's live list, on the writer's and this host's clocks",
    attributes: [],
  },
  'gsr.etcd.health': {
    kind: 'gauge',
    unit: '1',
    description: 'Whether the registry can talk to etcd (1) or not (0), as health$ says',
    attributes: [],
  },
  'gsr.etcd.silence': {
    kind: 'gauge',
    unit: 's',
    description:
      'Seconds since etcd last answered this registry (any request, watch response or keepalive): how old a list kept through an outage may be',
    attributes: [],
  },
  'gsr.balancer.calls': {
    kind: 'counter',
    unit: '{call}',
    description: 'Attempts a Balancer made (or was told of with report()), by endpoint and outcome',
    attributes: ['gsr.service', 'gsr.endpoint.address', 'gsr.outcome'],
  },
  'gsr.balancer.retries': {
    kind: 'counter',
    unit: '{call}',
    description:
      'Failed attempts a Balancer retried on another endpoint, by the endpoint that failed',
    attributes: ['gsr.service', 'gsr.endpoint.address'],
  },
  'gsr.balancer.ejections': {
    kind: 'counter',
    unit: '{ejection}',
    description: 'Endpoints a Balancer ejected',
    attributes: ['gsr.service', 'gsr.endpoint.address'],
  },
} as const satisfies Record<string, InstrumentSpec>;

type Instruments = typeof INSTRUMENTS;
type Name = keyof Instruments;
type Made<K extends Name> = Instruments[K]['kind'] extends 'counter'
  ? Counter
  : Instruments[K]['kind'] extends 'updowncounter'
    ? UpDownCounter
    : Instruments[K]['kind'] extends 'histogram'
      ? Histogram
      : ObservableGauge;

/** gsr's meter: from `provider`, else from the global provider (a no-op until an SDK registers one). */
export function gsrMeter(provider: MeterProvider | undefined): Meter {
  return (provider ?? metrics.getMeterProvider()).getMeter(METER_NAME);
}

/** Makes one of {@link INSTRUMENTS} on `meter`. */
export function instrument<K extends Name>(meter: Meter, name: K): Made<K> {
  const spec: InstrumentSpec = INSTRUMENTS[name];
  const options = { unit: spec.unit, description: spec.description };
  switch (spec.kind) {
    case 'counter':
      return meter.createCounter(name, options) as Made<K>;
    case 'updowncounter':
      return meter.createUpDownCounter(name, options) as Made<K>;
    case 'histogram':
      return meter.createHistogram(name, {
        ...options,
        advice: { explicitBucketBoundaries: DURATION_BUCKETS_SECONDS },
      }) as Made<K>;
    case 'gauge':
      return meter.createObservableGauge(name, options) as Made<K>;
  }
}
