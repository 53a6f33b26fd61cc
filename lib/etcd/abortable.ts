/**
 * `promise`, or a rejection with `signal`'s reason as soon as it aborts (then `onAbort` runs, to cancel
 * what the promise waits on). Without a signal, `promise` itself.
 * @internal
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort?: () => void,
): Promise<T> {
  if (signal === undefined) {
    return promise;
  }
  const reasonOf = (): Error =>
    signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
  if (signal.aborted) {
    onAbort?.();
    return Promise.reject(reasonOf());
  }
  return new Promise<T>((resolve, reject) => {
    const aborted = () => {
      onAbort?.();
      reject(reasonOf());
    };
    signal.addEventListener('abort', aborted, { once: true });
    promise.finally(() => signal.removeEventListener('abort', aborted)).then(resolve, reject);
  });
}
