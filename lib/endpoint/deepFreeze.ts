/**
 * Freezes a JSON value and everything in it, so that metadata shared by every subscriber's list cannot
 * be changed by one of them.
 * @internal
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
