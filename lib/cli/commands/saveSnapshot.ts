import { resolve } from 'node:path';
import type { GsrOptions } from '../../config/GsrConfig';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { withRegistry } from '../withRegistry';

/**
 * `gsr snapshot save <dir>`: every service's list and operators' overrides, read from etcd now and
 * written to `dir` as snapshots, for an operator to ship to hosts that never ran gsr (their
 * `GSR_SNAPSHOT_DIR`). It says how many lists it wrote only once every file is on disk.
 */
export async function saveSnapshot(io: CliIo, options: GsrOptions, dir: string): Promise<void> {
  const where = resolve(dir);
  const lists = await withRegistry(io, options, undefined, (registry) =>
    registry.saveSnapshots(where),
  );
  io.stdout.write(
    `saved ${lists - 1} services and operators' overrides to ${printable(where)}\n` +
      'a process configured with the same etcd endpoints and key prefix, and GSR_SNAPSHOT_DIR set to ' +
      'that directory, starts from them while etcd is down\n',
  );
}
