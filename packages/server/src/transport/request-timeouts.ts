import type { ServerOptions } from 'node:http';

/** How long a client may take to send a whole request, unless told otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/**
 * Options for `http.createServer` that answer 408 and close a connection whose request
 * (headers, and body if any) is not complete after `requestTimeoutMs`, so a client that
 * sends half a request cannot hold a connection for Node's default of minutes.
 */
export function requestTimeouts(requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): ServerOptions {
  return {
    headersTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs,
    // Node looks for expired requests at this interval (default 30 s), so it bounds how late the close comes.
    connectionsCheckingInterval: Math.min(requestTimeoutMs, 30_000),
  };
}
