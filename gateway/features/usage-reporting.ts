import { createHash } from 'node:crypto';
import { TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { RegistryClient } from '../../supergraph/registry/client.ts';
import { LogThrottle } from '../observability/log-throttle.ts';
import type { Logger } from '../observability/log.ts';
import type { GatewayPlugin } from '../pipeline/plugin.ts';

interface Aggregate {
  hash: string;
  name: string | null;
  client: string | null;
  coordinates: string[];
  count: number;
}

/**
 * Reports which schema fields operations use to the registry, so `subgraph check --usage-days`
 * can tell a breaking change that hurts someone from one nobody would notice. Per document, the
 * field coordinates are computed once; requests only bump a counter, and a timer flushes. Every
 * operation the engine resolved counts, refused by a policy or not (it was still sent).
 */
export function usageReporting(
  client: RegistryClient,
  opts: { flushIntervalMs: number; log: Logger },
): GatewayPlugin & { flush(): Promise<void> } {
  const pending = new Map<string, Aggregate>();
  const perDocument = new WeakMap<DocumentNode, { hash: string; coordinates: string[] }>();
  const throttle = new LogThrottle(60_000);

  const flush = async () => {
    if (!pending.size) return;
    const operations = [...pending.values()];
    pending.clear();
    try {
      await client.reportUsage(operations);
    } catch (err) {
      const suppressed = throttle.take('usage');
      if (suppressed !== null)
        opts.log.warn(
          { err: (err as Error).message, dropped: operations.length, suppressed },
          'usage report to the registry failed',
        );
    }
  };
  const timer = setInterval(() => void flush(), opts.flushIntervalMs);
  timer.unref();

  return {
    name: 'usage-reporting',
    flush,
    onResponse({ operation, headers }) {
      if (!operation) return;
      let doc = perDocument.get(operation.document);
      if (!doc)
        perDocument.set(
          operation.document,
          (doc = {
            hash: createHash('sha256').update(operation.source).digest('hex'),
            coordinates: coordinatesOf(operation.schema.apiSchema, operation.document),
          }),
        );
      const raw = header(headers['apollographql-client-name']) ?? header(headers['x-client-name']);
      const clientName = raw ? raw.slice(0, 100) : null;
      const key = `${doc.hash} ${clientName ?? ''}`;
      const agg = pending.get(key);
      if (agg) agg.count++;
      else if (pending.size < 10_000)
        pending.set(key, {
          hash: doc.hash,
          name: operation.operationName,
          client: clientName,
          coordinates: doc.coordinates,
          count: 1,
        });
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

function header(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

/** `Type.field` for every field the document selects (fragments included), deduplicated. */
export function coordinatesOf(schema: GraphQLSchema, document: DocumentNode): string[] {
  const out = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent && !node.name.value.startsWith('__')) out.add(`${parent.name}.${node.name.value}`);
      },
    }),
  );
  return [...out].sort();
}
