import type { Endpoint } from '../lib';

/** Whether the sorted `list` has `address`: what a consumer checks in O(log n), not O(n). */
export function hasAddress(list: readonly Endpoint[], address: string): boolean {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((list[mid]?.address ?? '') < address) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return list[low]?.address === address;
}
