/** `scheme://user:password@`: the password goes. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/@:"']*):[^\s/@"']*@/gi;
/** `user:password@host` with no scheme (how an endpoint may be written in GSR_ETCD_ENDPOINTS). */
const BARE_USERINFO = /(^|[\s,"'(=])([^\s,"'@/:]+):[^\s,"'@/]+@(?=[^\s,"'@/]+)/g;
/** `--etcd-password=x`, `password: x`, `GSR_ETCD_PASSWORD=x`: what follows a secret's name goes. */
const NAMED_SECRET = /((?:password|passwd|secret|token)[\w-]*["']?\s*[=:]\s*)(["']?)[^\s"',&]+/gi;

/**
 * `text` with every credential it holds replaced by `****`: the password of a URL's userinfo
 * (`http://root:****@host`), and the value after anything named password, secret or token
 * (`--etcd-password=****`). gsr runs every message it prints, logs or throws that may echo what a user
 * typed through it, so that a password put in the wrong place is not printed back.
 * @internal
 */
export function maskCredentials(text: string): string {
  return text
    .replace(URL_USERINFO, '$1:****@')
    .replace(BARE_USERINFO, '$1$2:****@')
    .replace(NAMED_SECRET, '$1$2****');
}
