export function splitListen(listen: string): { host: string | undefined; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host === '' ? undefined : host, port: Number(listen.slice(i + 1)) };
}

/** Loopback addresses, where open endpoints reach only this machine. */
export function isLoopback(host: string | undefined): boolean {
  if (!host) return false; // every address
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
