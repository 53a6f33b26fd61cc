import type { Endpoint, Metadata } from '../endpoint/Endpoint';
import { endpointState } from '../endpoint/EndpointState';
import { addressProblem } from '../endpoint/validateEndpoint';
import { escapeText } from '../text/escapeText';

/** One target group of Prometheus' `http_sd_config`: targets that share every label. */
export interface TargetGroup {
  /** `host:port` of each target. */
  readonly targets: readonly string[];
  /** `__meta_gsr_*` labels, the same for every target of the group. */
  readonly labels: Readonly<Record<string, string>>;
}

/** The prefix of every label gsr gives: Prometheus drops `__meta_` labels after relabelling. */
const LABEL_PREFIX = '__meta_gsr_';
/**
 * At most this many metadata labels per target, the first by name: metadata may hold thousands of
 * fields (64 KiB), and every label costs Prometheus memory per target.
 */
export const MAX_METADATA_LABELS = 64;
/** A label value is cut to this many characters: a metadata string may be 64 KiB long. */
export const MAX_LABEL_VALUE_CHARS = 1024;
/** A metadata field whose label name would be longer than this is left out. */
const MAX_LABEL_NAME_CHARS = 128;

/**
 * A service's endpoints as Prometheus target groups: endpoints whose labels are all equal share a group
 * (one group for the whole service when its endpoints say the same about themselves), in the order of
 * their first endpoint. Labels: `__meta_gsr_service`, `__meta_gsr_state` (`serving`, `draining`,
 * `failing`, `maintenance`), `__meta_gsr_maintenance_reason` while in maintenance, and each metadata
 * field as `__meta_gsr_metadata_<name>` (nested objects flattened with `_`, other values as JSON, names
 * sanitised to `[A-Za-z0-9_]`).
 *
 * Everything here was written by someone else: an address that is not `host:port` is skipped, metadata
 * past the bounds above is cut, and two fields that sanitise to one label keep the first by name; each
 * with one call of `warn`.
 * @internal
 */
export function targetGroupsOf(
  service: string,
  list: readonly Endpoint[],
  warn: (message: string) => void,
): TargetGroup[] {
  const groups = new Map<string, { targets: string[]; labels: Record<string, string> }>();
  for (const endpoint of list) {
    const problem = addressProblem(endpoint.address);
    if (problem !== undefined) {
      warn(`http-sd skips ${describe(service, endpoint)}: ${problem}`);
      continue;
    }
    const labels = labelsOf(service, endpoint, warn);
    const key = JSON.stringify(labels);
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, { targets: [endpoint.address], labels });
    } else {
      group.targets.push(endpoint.address);
    }
  }
  return [...groups.values()];
}

function labelsOf(
  service: string,
  endpoint: Endpoint,
  warn: (message: string) => void,
): Record<string, string> {
  const labels: Record<string, string> = {
    [`${LABEL_PREFIX}service`]: service,
    [`${LABEL_PREFIX}state`]: endpointState(endpoint),
  };
  if (endpoint.maintenance !== undefined) {
    labels[`${LABEL_PREFIX}maintenance_reason`] = bounded(endpoint.maintenance.reason);
  }
  if (endpoint.metadata === undefined) {
    return labels;
  }
  const fields: [string, unknown][] = [];
  flatten(endpoint.metadata, '', fields);
  fields.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const cut: string[] = [];
  let count = 0;
  for (const [path, value] of fields) {
    const name = `${LABEL_PREFIX}metadata_${path.replace(/[^A-Za-z0-9_]/g, '_')}`;
    if (name.length > MAX_LABEL_NAME_CHARS || count >= MAX_METADATA_LABELS) {
      cut.push(path);
    } else if (name in labels) {
      cut.push(path); // another field became this label first
    } else {
      labels[name] = bounded(typeof value === 'string' ? value : JSON.stringify(value));
      count += 1;
    }
  }
  if (cut.length > 0) {
    warn(
      `http-sd leaves out ${cut.length} metadata field(s) of ${describe(service, endpoint)} ` +
        `(first "${escapeText(cut[0] ?? '', 60)}"): past ${MAX_METADATA_LABELS} labels, a name ` +
        `longer than ${MAX_LABEL_NAME_CHARS} characters, or one that another field's label took`,
    );
  }
  return labels;
}

/** Nested objects become `a_b` paths; anything else (arrays included) is a leaf. */
function flatten(metadata: Metadata, prefix: string, into: [string, unknown][]): void {
  for (const [key, value] of Object.entries(metadata)) {
    const path = prefix === '' ? key : `${prefix}_${key}`;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      flatten(value as Metadata, path, into);
    } else {
      into.push([path, value]);
    }
  }
}

/** A label value: well-formed (a lone surrogate has no UTF-8) and at most the bound. */
function bounded(value: string): string {
  const cut = value.length > MAX_LABEL_VALUE_CHARS ? value.slice(0, MAX_LABEL_VALUE_CHARS) : value;
  return cut.toWellFormed();
}

function describe(service: string, endpoint: Endpoint): string {
  return `endpoint "${escapeText(endpoint.address, 80)}" of service "${escapeText(service, 80)}"`;
}
