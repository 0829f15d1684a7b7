import type { ErrorCode } from './codes.ts';

/** The JSON body for errors raised before Apollo sees the request (HTTP framing, body limit…). */
export function errorBody(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): string {
  return JSON.stringify({ errors: [{ message, extensions: { ...extensions, code } }] });
}
