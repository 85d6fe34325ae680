/** Hosts whose plain-http URIs may be registered (RFC 8252 7.3). */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);
/** RFC 8252 7.1: a private-use scheme is a reverse domain name, so it contains a dot. */
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

/**
 * Why `uri` may not be registered, or undefined when it may: https only, except plain http to
 * a loopback host (any port) and, for native clients, private-use schemes.
 */
export function redirectUriProblem(uri: string, applicationType: 'web' | 'native'): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri}" is not an absolute URI`;
  }
  if (url.hash || uri.includes('#')) return `"${uri}" must not contain a fragment`;
  if (url.username || url.password) return `"${uri}" must not contain credentials`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname)
      ? undefined
      : `"${uri}" must use https (plain http only for loopback hosts)`;
  }
  if (PRIVATE_USE_SCHEME.test(url.protocol)) {
    return applicationType === 'native'
      ? undefined
      : `"${uri}": private-use schemes are for native clients only (application_type native)`;
  }
  return `"${uri}" uses a scheme that is not allowed`;
}
