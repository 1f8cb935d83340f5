const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Parses a push endpoint and refuses anything but http(s) on a loopback host: the local bus never pushes off the machine. */
export function assertLoopbackEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`local bus: pushEndpoint is not a valid URL: ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`local bus: pushEndpoint must be http(s), got ${url.protocol} in ${endpoint}`);
  }
  if (!LOOPBACK_HOSTS.has(url.hostname.toLowerCase())) {
    throw new Error(`local bus: pushEndpoint host ${url.hostname} is not loopback (allowed: 127.0.0.1, localhost, ::1)`);
  }
  return url;
}
