// proxy-from-env ships no types; this is the one function we use.
declare module 'proxy-from-env' {
  /** The proxy URL that HTTP(S)_PROXY, ALL_PROXY and NO_PROXY select for `url`, or ''. */
  export function getProxyForUrl(url: string | URL): string;
}
