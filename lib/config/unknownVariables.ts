import { configSchema } from './configSchema';
import type { Environment } from './GsrConfig';

/** `GSR_*` variables gsr's own tooling reads, beside the configuration: not unknown. */
const TOOLING = new Set([
  'GSR_ETCD_BIN', // gsr/testing: the etcd binary
  'GSR_CHROMIUM', // the dashboard's browser tests
  'GSR_FIREFOX',
  'GSR_SCREENSHOT',
  'GSR_PROPERTY_RUNS', // gsr's own test suites
  'GSR_SIM_SEED',
  'GSR_SIM_SEEDS',
  'GSR_SIM_FROM',
  'GSR_SIM_TRACE',
]);

/** A `GSR_*` variable gsr does not know, and the known one it is likeliest a misspelling of. */
interface UnknownVariable {
  readonly variable: string;
  readonly suggestion: string | undefined;
}

/**
 * The `GSR_*` variables of `env` that gsr does not read, each with the variable it likely meant (within
 * three edits), so that `GSR_ETCD_ENDPOINT=...` is said rather than silently ignored for the default.
 * @internal
 */
export function unknownVariables(env: Environment): readonly UnknownVariable[] {
  const known = Object.values(configSchema).map((setting) => setting.env as string);
  return Object.keys(env)
    .filter((name) => name.startsWith('GSR_') && !known.includes(name) && !TOOLING.has(name))
    .sort()
    .map((variable) => {
      let suggestion: string | undefined;
      let best = 4;
      for (const name of known) {
        const distance = editDistance(variable, name);
        if (distance < best) {
          best = distance;
          suggestion = name;
        }
      }
      return { variable, suggestion };
    });
}

/** Levenshtein's distance between `a` and `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
