import { z } from 'zod';

/**
 * An HTTP field name (RFC 9110 token). A name with a space or a colon in config would otherwise be
 * accepted at start-up and then fail every request that sends or reads it.
 */
export const headerName = z
  .string()
  .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)");

/** An HTTP field value: no CR, LF or NUL, which no client library will send. */
export const headerValue = z.string().regex(/^[^\r\n\0]*$/, 'a header value without line breaks or NUL');
