import type { ServerResponse } from 'node:http';
import { errorCodes, type ErrorCode } from '../errors/codes.ts';
import { errorBody } from '../errors/tessera-error.ts';

/** GraphQL-over-HTTP: answer in the media type the client asked for. */
export function responseMediaType(accept: string | undefined): string {
  return accept?.includes('application/graphql-response+json')
    ? 'application/graphql-response+json; charset=utf-8'
    : 'application/json; charset=utf-8';
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json; charset=utf-8',
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...extra, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A request-level error raised before Apollo sees the request. */
export function sendError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  accept: string | undefined,
  headers: Record<string, string> = {},
): void {
  sendJson(res, errorCodes[code].status ?? 500, errorBody(code, message), responseMediaType(accept), headers);
}
