import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from '../observability/log.ts';
import { anonymous, type GraphQLParams, type Identity, type RequestPhase, type Slot } from './plugin.ts';

/**
 * The one per-request object: made by the HTTP front when a request reaches /graphql, handed to
 * every phase (each payload delegates to it), to the engine and to each subgraph fetch, and
 * dropped with the request. Plugins leave data for each other in typed slots, and add response
 * headers through `setResponseHeader`, the only header channel.
 */
export class RequestContext implements RequestPhase {
  identity: Identity = anonymous;
  /** Set once the HTTP front has read the body (or the query string). */
  params: GraphQLParams = {};
  readonly requestId: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly remoteAddress: string;
  readonly startedAt: number;
  readonly log: Logger;
  private headersOut: Array<[string, string]> | null = null;
  private slots: Map<Slot<unknown>, unknown> | null = null;

  constructor(init: {
    requestId: string;
    method: string;
    headers: IncomingHttpHeaders;
    remoteAddress: string;
    log: Logger;
    /** `performance.now()` at arrival; now when not given. */
    startedAt?: number;
  }) {
    this.requestId = init.requestId;
    this.method = init.method;
    this.headers = init.headers;
    this.remoteAddress = init.remoteAddress;
    this.startedAt = init.startedAt ?? performance.now();
    this.log = init.log;
  }

  get context(): RequestContext {
    return this;
  }

  setResponseHeader(name: string, value: string): void {
    (this.headersOut ??= []).push([name.toLowerCase(), value]);
  }

  /** In the order they were set; a later value of the same name wins when written. */
  get responseHeaders(): ReadonlyArray<readonly [string, string]> {
    return this.headersOut ?? [];
  }

  get<T>(slot: Slot<T>): T | undefined {
    return this.slots?.get(slot) as T | undefined;
  }

  set<T>(slot: Slot<T>, value: T): void {
    (this.slots ??= new Map()).set(slot, value);
  }
}
