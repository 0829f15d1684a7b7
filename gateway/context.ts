import type { Logger } from './observability/log.ts';

/** Apollo's per-request context value: what every hook, data source and policy can read. */
export interface GatewayContext {
  readonly requestId: string;
  readonly log: Logger;
}
