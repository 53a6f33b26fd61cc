/**
 * What went wrong, as text: an error's message, or anything else thrown, as a string. Whatever was
 * thrown (a getter that throws, a Proxy, an object whose `toString` throws), it returns a string.
 * @internal
 */
export function messageOf(error: unknown): string {
  try {
    // A getter or a Proxy may hand back anything as the message.
    const message: unknown = error instanceof Error ? error.message : error;
    return String(message);
  } catch {
    return '(a thrown value that cannot be shown)';
  }
}
