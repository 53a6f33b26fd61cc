/**
 * Whether `error` carries `brand` set to `true`. gsr's guards check a brand rather than `instanceof`,
 * which is false when two copies of gsr are loaded (a monorepo, a plugin) — cockatiel's approach.
 * @internal
 */
export function hasBrand(error: unknown, brand: string): boolean {
  try {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Readonly<Record<string, unknown>>)[brand] === true
    );
  } catch {
    return false; // A Proxy or a getter that throws: not one of ours.
  }
}
