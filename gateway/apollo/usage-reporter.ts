import { createHash } from 'node:crypto';
import type { ApolloServerPlugin } from '@apollo/server';
import { TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { RegistryClient } from '../../supergraph/registry/client.ts';
import type { GatewayContext } from '../context.ts';
import type { Logger } from '../observability/log.ts';
import { LogThrottle } from '../observability/log-throttle.ts';

interface Aggregate { hash: string; name: string | null; client: string | null; coordinates: string[]; count: number }

/**
 * Reports which schema fields operations use to the registry, so `subgraph check --usage-days`
 * can tell a breaking change that hurts someone from one nobody would notice. Per document, the
 * field coordinates are computed once; requests only bump a counter, and a timer flushes.
 */
export class UsageReporter {
  private readonly pending = new Map<string, Aggregate>();
  private readonly perDocument = new WeakMap<DocumentNode, { hash: string; coordinates: string[] }>();
  private readonly timer: NodeJS.Timeout;
  private readonly throttle = new LogThrottle(60_000);
  private readonly client: RegistryClient;
  private readonly log: Logger;

  constructor(client: RegistryClient, opts: { flushIntervalMs: number; log: Logger }) {
    this.client = client;
    this.log = opts.log;
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  plugin(): ApolloServerPlugin<GatewayContext> {
    return {
      requestDidStart: async () => ({
        didResolveOperation: async (rc) => {
          let doc = this.perDocument.get(rc.document);
          if (!doc) this.perDocument.set(rc.document, (doc = { hash: createHash('sha256').update(rc.source).digest('hex'), coordinates: coordinatesOf(rc.schema, rc.document) }));
          const raw = rc.request.http?.headers.get('apollographql-client-name') ?? rc.request.http?.headers.get('x-client-name') ?? null;
          const client = raw ? raw.slice(0, 100) : null;
          const key = `${doc.hash} ${client ?? ''}`;
          const agg = this.pending.get(key);
          if (agg) agg.count++;
          else if (this.pending.size < 10_000) this.pending.set(key, { hash: doc.hash, name: rc.operationName ?? null, client, coordinates: doc.coordinates, count: 1 });
        },
      }),
    };
  }

  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const operations = [...this.pending.values()];
    this.pending.clear();
    try {
      await this.client.reportUsage(operations);
    } catch (err) {
      const suppressed = this.throttle.take('usage');
      if (suppressed !== null) this.log.warn({ err: (err as Error).message, dropped: operations.length, suppressed }, 'usage report to the registry failed');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/** `Type.field` for every field the document selects (fragments included), deduplicated. */
export function coordinatesOf(schema: GraphQLSchema, document: DocumentNode): string[] {
  const out = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(document, visitWithTypeInfo(typeInfo, {
    Field(node) {
      const parent = typeInfo.getParentType();
      if (parent && !node.name.value.startsWith('__')) out.add(`${parent.name}.${node.name.value}`);
    },
  }));
  return [...out].sort();
}
