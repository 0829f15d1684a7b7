import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from './observability/log.ts';
import type { RequestState } from './policy-runner/runner.ts';

/** Apollo's per-request context value: what every hook, data source and policy can read. */
export interface GatewayContext {
  readonly requestId: string;
  /** The gateway's logger; lines about this request carry `requestId`. */
  readonly log: Logger;
  /** The client's request headers (the subgraph clients propagate the allow-listed ones). */
  readonly headers: IncomingHttpHeaders;
  /** Identity and response headers the policies share for this request. */
  readonly policy: RequestState;
}
