import { createHash } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { resolveSubgraphSettings } from '../config/resolve-subgraphs.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { SubgraphClient } from './client.ts';
import type { FetchLayer } from './fetch.ts';
import { SupergraphShapes } from './response-shape.ts';
import type { StitchedSourceDescriptor } from '../stitched-sources/descriptor.ts';

/** A subgraph of a supergraph generation; `stitched` for a plain service served through the stitching adapter. */
export interface LeasedSubgraph {
  readonly name: string;
  readonly url: string;
  readonly stitched?: StitchedSourceDescriptor | Error;
}

interface Entry {
  readonly client: SubgraphClient;
  /** Supergraph generations (leases) that reference the client. */
  refs: number;
}

/** One generation's references on the clients of its subgraphs. */
export interface ClientLease {
  /** Drops the references; a client no live generation references is closed. Idempotent. */
  release(): Promise<void>;
}

/**
 * One client (pool, breaker, retry budget) per subgraph name and resolved URL, shared by every
 * supergraph generation that routes there and reference-counted across them: a reload that
 * keeps a subgraph's URL keeps its pool and warm sockets, and a client is closed only when the
 * last generation referencing it has drained (see schema-source/generations.ts).
 *
 * Apollo gets a handle per (name, URL), not the client: it keeps data sources by name for the
 * life of the gateway and hands an old one back when a URL returns, so what it holds must stay
 * valid after the client behind it was closed and made again.
 */
export class SubgraphClients {
  private readonly entries = new Map<string, Entry>();
  /** (name, URL) key → the full key (with the descriptor) of the newest lease's stitched source. */
  private readonly stitchedKeys = new Map<string, string>();
  private readonly stitchedBy = new Map<string, StitchedSourceDescriptor | Error>();
  /** The newest lease: it adopts a client Apollo asks for outside any generation's list. */
  private current: { keys: Set<string> } | null = null;
  private readonly config: Config;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly wrap: readonly FetchLayer[];
  private readonly tracing: boolean;
  /** What subgraph answers are checked against, per supergraph generation. */
  readonly shapes = new SupergraphShapes();
  /**
   * `wrap`: layers every client gets between the headers and the answer check, outermost
   * first (the seam for plugins' `wrapSubgraphFetch`; see client.ts for the whole order).
   */
  constructor(
    config: Config,
    deps: { log: Logger; metrics: Metrics; wrap?: readonly FetchLayer[]; tracing?: boolean },
  ) {
    this.config = config;
    this.tracing = deps.tracing ?? false;
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.wrap = deps.wrap ?? [];
  }

  /**
   * The live client for a subgraph at a URL, looked up at each call (an engine holds this for the
   * life of the gateway; clients come and go with supergraph generations).
   */
  live(name: string, routingUrl: string): () => SubgraphClient {
    const base = this.keyOf(name, routingUrl);
    return () => {
      // A stitched source's key also carries its descriptor: the newest lease says which is live.
      const key = this.stitchedKeys.get(base) ?? base;
      return (this.entries.get(key) ?? this.adopt(key, name, routingUrl)).client;
    };
  }

  /** Takes one reference on the client of each subgraph, making those not live yet. */
  lease(subgraphs: readonly LeasedSubgraph[]): ClientLease {
    const keys = new Set<string>();
    for (const { name, url, stitched } of subgraphs) {
      const base = this.keyOf(name, url);
      let key = base;
      if (stitched !== undefined) {
        key = `${base} ${descriptorKey(stitched)}`;
        this.stitchedKeys.set(base, key);
        this.stitchedBy.set(key, stitched);
      } else this.stitchedKeys.delete(base);
      if (keys.has(key)) continue;
      keys.add(key);
      const entry = this.entries.get(key) ?? this.create(key, name, url);
      entry.refs++;
    }
    const lease = { keys };
    this.current = lease;
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        if (this.current === lease) this.current = null;
        const closing: Array<Promise<void>> = [];
        for (const key of lease.keys) {
          const entry = this.entries.get(key);
          if (!entry || --entry.refs > 0) continue;
          closing.push(this.drop(key, entry).close());
        }
        await Promise.all(closing);
      },
    };
  }

  /** Live clients (each with its own pool) per subgraph name. */
  count(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { client } of this.entries.values()) out[client.settings.name] = (out[client.settings.name] ?? 0) + 1;
    return out;
  }

  /** `force` aborts requests still in flight (after a drain timeout) instead of waiting for them. */
  async closeAll(opts: { force?: boolean } = {}): Promise<void> {
    const all = [...this.entries].map(([key, entry]) => this.drop(key, entry));
    this.current = null;
    await Promise.all(all.map((c) => (opts.force ? c.destroy() : c.close())));
  }

  private keyOf(name: string, routingUrl: string): string {
    return `${name} ${resolveSubgraphSettings(this.config, name, routingUrl).url}`;
  }

  private create(key: string, name: string, routingUrl: string): Entry {
    const settings = resolveSubgraphSettings(this.config, name, routingUrl);
    const stitched = this.stitchedBy.get(key);
    const entry: Entry = {
      client: new SubgraphClient(settings, {
        log: this.log,
        metrics: this.metrics,
        shapes: this.shapes,
        wrap: this.wrap,
        tracing: this.tracing,
        ...(stitched !== undefined ? { stitched } : {}),
      }),
      refs: 0,
    };
    this.entries.set(key, entry);
    this.metrics.subgraphClients.inc({ subgraph: name });
    this.log.info({ subgraph: name, url: settings.url }, 'subgraph client created');
    return entry;
  }

  private drop(key: string, entry: Entry): SubgraphClient {
    this.entries.delete(key);
    this.stitchedBy.delete(key);
    this.metrics.subgraphClients.dec({ subgraph: entry.client.settings.name });
    this.log.info({ subgraph: entry.client.settings.name, url: entry.client.settings.url }, 'subgraph client closed');
    return entry.client;
  }

  /**
   * A fetch for a (name, URL) no live generation lists: Apollo registered the data source for a
   * supergraph whose update then failed, and still routes the current plan there. The client
   * serves it and belongs to the current generation from now on.
   */
  private adopt(key: string, name: string, routingUrl: string): Entry {
    const entry = this.create(key, name, routingUrl);
    if (this.current) {
      this.current.keys.add(key);
      entry.refs++;
    }
    this.log.warn(
      { subgraph: name, url: entry.client.settings.url },
      'subgraph client created outside a supergraph generation; the current generation owns it',
    );
    return entry;
  }
}

function descriptorKey(d: StitchedSourceDescriptor | Error): string {
  return createHash('sha256')
    .update(d instanceof Error ? `error ${d.message}` : JSON.stringify(d))
    .digest('base64url')
    .slice(0, 16);
}
