import type { GsrOptions } from '../../config/GsrConfig';
import type { CliIo } from '../CliIo';
import { printable } from '../printable';
import { readOnce } from '../readOnce';

/** `gsr services`: one service name per line. */
export async function listServices(io: CliIo, options: GsrOptions): Promise<void> {
  const names = await readOnce(io, options, undefined, (reads) => reads.services());
  io.stdout.write(names.map((name) => `${printable(name)}\n`).join(''));
}
