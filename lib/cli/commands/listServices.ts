import type { GsrOptions } from '../../config/GsrConfig';
import { loadConfig } from '../../config/loadConfig';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { readOnce } from '../readOnce';

/**
 * `gsr services`: one service name per line. None is said on stderr, as `gsr endpoints` says an empty
 * service (an etcd or prefix other than meant looks like an empty registry); it still exits 0.
 */
export async function listServices(io: CliIo, options: GsrOptions): Promise<void> {
  const names = await readOnce(io, options, undefined, (reads) => reads.services());
  io.stdout.write(names.map((name) => `${printable(name)}\n`).join(''));
  if (names.length === 0) {
    const { keyPrefix, etcdEndpoints } = loadConfig(options, io.env);
    io.stderr.write(
      `gsr: no service has endpoints under "${printable(keyPrefix)}" in etcd at ${printable(etcdEndpoints.join(', '))}\n`,
    );
  }
}
