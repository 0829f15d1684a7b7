import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { Pool } from 'undici';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';
import type { GatewayContext } from '../context.ts';
import type { Logger } from '../observability/log.ts';
import { classifyFailure, httpFailure, type ClassifiedFailure } from './classify-failure.ts';
import { failurePath } from './error-path.ts';
import { createPool } from './pool.ts';

/**
 * Tessera's client for one subgraph, plugged in through @apollo/gateway's `buildService`. It
 * never throws: a failure is returned as a GraphQL error so that the gateway attaches
 * `serviceName` and maps the path, and the other subgraphs' fields are still served.
 */
export class SubgraphDataSource implements GraphQLDataSource<GatewayContext> {
  readonly settings: SubgraphSettings;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly log: Logger;

  constructor(settings: SubgraphSettings, log: Logger) {
    this.settings = settings;
    const url = new URL(settings.url);
    this.path = `${url.pathname}${url.search}`;
    this.pool = createPool(settings);
    this.log = log;
  }

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    const query = request.query ?? '';
    const ctx = options.context as Partial<GatewayContext>;
    const body = JSON.stringify({ query, variables: request.variables, operationName: request.operationName });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (ctx.requestId) headers['x-request-id'] = ctx.requestId;

    let failure: ClassifiedFailure;
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      const text = await res.body.text();
      const parsed = parseGraphQLResponse(text);
      if (res.statusCode >= 200 && res.statusCode < 300 && parsed) return parsed;
      // GraphQL-over-HTTP lets a subgraph answer 4xx with a well-formed GraphQL error body.
      if (res.statusCode >= 400 && res.statusCode < 500 && parsed?.errors && parsed.data === undefined) return parsed;
      failure = httpFailure(this.settings.name, res.statusCode, parsed ? 'GraphQL body with non-2xx status' : `body: ${text.slice(0, 200)}`);
    } catch (err) {
      failure = classifyFailure(this.settings.name, err);
    }

    (ctx.log ?? this.log).warn(
      { subgraph: this.settings.name, code: failure.code, cause: failure.cause, url: this.settings.url, requestId: ctx.requestId },
      'subgraph request failed',
    );
    const isEntityFetch = Array.isArray(request.variables?.['representations']);
    const document = 'document' in options ? options.document : undefined;
    return {
      errors: [
        {
          message: failure.message,
          path: failurePath(query, document, isEntityFetch),
          extensions: { code: failure.code, ...(failure.status ? { status: failure.status } : {}) },
        },
      ],
    } as GatewayGraphQLResponse;
  }

  /** Waits for in-flight requests, then closes the sockets. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Aborts in-flight requests and closes the sockets now. */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

function parseGraphQLResponse(text: string): GatewayGraphQLResponse | null {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const v = value as Record<string, unknown>;
    if (!('data' in v) && !Array.isArray(v['errors'])) return null;
    return v as GatewayGraphQLResponse;
  } catch {
    return null;
  }
}
