import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../lib/testing/freePorts';
import { readmeBlock } from '../readme/readmeSnippets';
import { eventually } from './observe';

/** Debian's prometheus (`npm run setup` installs it), or the one GSR_PROMETHEUS names. */
const PROMETHEUS = process.env.GSR_PROMETHEUS ?? 'prometheus';

/** One target as Prometheus' `/api/v1/targets` lists it. */
export interface PrometheusTarget {
  readonly discoveredLabels: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly health: 'up' | 'down' | 'unknown';
}

/** A real Prometheus on a free loopback port, discovering targets from `sdUrl` every second. */
export interface TestPrometheus {
  /** Its active targets, as its API lists them. */
  targets(): Promise<PrometheusTarget[]>;
  /** Its log, for a failure's message. */
  readonly logFile: string;
  close(): Promise<void>;
}

/**
 * Starts Prometheus with the README's scrape config: one job whose targets come from gsr's HTTP service
 * discovery at `sdUrl` (refreshed and scraped every second here).
 */
export async function startPrometheus(sdUrl: string): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'gsr-prometheus-'));
  const [port] = await freePorts(1);
  const config = join(dir, 'prometheus.yml');
  // The README's scrape config, as printed, pointed at `sdUrl` and refreshed every second.
  const printed = readmeBlock('yaml', 'http_sd_configs')
    .replace('http://127.0.0.1:7701/', sdUrl)
    .replace('refresh_interval: 15s', 'refresh_interval: 1s');
  writeFileSync(config, `global: { scrape_interval: 1s, scrape_timeout: 1s }\n${printed}`);
  const logFile = join(dir, 'prometheus.log');
  const log = openSync(logFile, 'w');
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log); // the child has its own copy
  const exited = once(child, 'exit');
  const failed = once(child, 'error').then(([error]) => {
    throw new Error(
      `cannot start ${PROMETHEUS} (${String(error)}): run \`npm run setup\` (it installs Debian's prometheus), or set GSR_PROMETHEUS`,
    );
  });
  failed.catch(() => undefined); // once started, an error shows as its exit
  const base = `http://127.0.0.1:${port}`;
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      failed,
      eventually(
        () =>
          fetch(`${base}/-/ready`).then(
            (response) => response.ok,
            () => false,
          ),
        30_000,
        'prometheus ready',
      ),
    ]);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    logFile,
    targets: async () => {
      const response = await fetch(`${base}/api/v1/targets?state=active`);
      const body = (await response.json()) as { data: { activeTargets: PrometheusTarget[] } };
      return body.data.activeTargets;
    },
    close,
  };
}
