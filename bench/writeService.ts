import type { Etcd3 } from 'etcd3';

/** The address of a bench service's endpoint `i`: distinct up to 2^24, sorted as numbers are not. */
export const benchAddress = (i: number): string =>
  `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:8080`;

/**
 * Writes `count` endpoints under `servicePrefix` (after clearing `prefix`), in transactions of 100 puts:
 * a large service is set up in seconds, not in one round trip per key.
 */
export async function writeService(
  writer: Etcd3,
  prefix: string,
  servicePrefix: string,
  count: number,
  valueOf: (i: number) => string = () => '',
): Promise<void> {
  await writer.delete().prefix(prefix);
  for (let start = 0; start < count; start += 100) {
    const batch = Array.from({ length: Math.min(100, count - start) }, (_, j) => start + j);
    await writer
      .if(`${prefix}populate`, 'Version', '>', -1) // always true: a batch of 100 puts
      .then(...batch.map((i) => writer.put(`${servicePrefix}${benchAddress(i)}`).value(valueOf(i))))
      .commit();
  }
}
