/**
 * What went wrong, as text: an error's message, or anything else thrown, as a string.
 * @internal
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
