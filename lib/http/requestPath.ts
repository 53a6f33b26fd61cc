/**
 * The path a request target asks for, without its query or fragment: from an origin-form target (`/a/b?q=1`,
 * as browsers send) or an absolute-form one (`http://host/a/b`, as proxies do); `undefined` for any
 * other target (`*`, or an absolute one that is not a URL: `http://x:99999/` passes Node's parser), which
 * the caller answers 400. A path is compared as it is, never decoded: `//evil.example` is a path of this
 * server, not another origin.
 * @internal
 */
export function requestPath(target: string | undefined): string | undefined {
  if (target === undefined) {
    return undefined;
  }
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    return end < 0 ? target : target.slice(0, end);
  }
  if (!/^https?:\/\//i.test(target)) {
    return undefined;
  }
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}
