import type { Server } from 'node:http';

/** Slack the headers timer keeps above the keep-alive timeout. */
const HEADERS_TIMEOUT_MARGIN_MS = 1000;

export interface ConnectionTimeouts {
  /** How long an idle keep-alive connection stays open. */
  keepAliveSeconds: number;
  /** The longest a whole request may take to arrive, body included; 0 for no limit. */
  requestTimeoutSeconds: number;
}

/**
 * Keep-alive, header and request timeouts for the HTTP server. Node closes an idle keep-alive
 * connection after 5 s by default; a client (or load balancer) that reuses the connection at that
 * moment sends its request into a closing socket and gets a reset, and a stalled event loop widens
 * that moment (the close timer fires before the waiting request is read). The server therefore
 * keeps idle connections longer than the clients in front of it do, and announces the timeout in
 * the `Keep-Alive` response header so that clients which read it close theirs first. The headers
 * timer stays above the keep-alive timeout, as load balancer guides ask, so it never cuts a
 * connection that the keep-alive timeout would keep.
 */
export function applyConnectionTimeouts(server: Server, timeouts: ConnectionTimeouts): void {
  server.keepAliveTimeout = timeouts.keepAliveSeconds * 1000;
  server.headersTimeout = server.keepAliveTimeout + HEADERS_TIMEOUT_MARGIN_MS;
  // Node requires headersTimeout <= requestTimeout, where 0 switches the request timer off.
  server.requestTimeout =
    timeouts.requestTimeoutSeconds === 0 ? 0 : Math.max(timeouts.requestTimeoutSeconds * 1000, server.headersTimeout);
}
