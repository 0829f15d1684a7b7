import type { IncomingHttpHeaders } from 'node:http';

/**
 * The calling client's name from `telemetry.clientHeader` (Apollo's `apollographql-client-name` by
 * default), for the request log line, the server span and the `client` metric label. It is client
 * text, so it is bounded before it goes anywhere.
 */
export function clientName(headers: IncomingHttpHeaders, header: string): string | null {
  const v = headers[header.toLowerCase()];
  const value = Array.isArray(v) ? v[0] : v;
  if (value === undefined || value === '') return null;
  return value.length > 64 ? value.slice(0, 64) : value;
}
