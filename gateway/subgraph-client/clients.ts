import type { Config } from '../config/schema.ts';
import { resolveSubgraphSettings } from '../config/resolve-subgraphs.ts';
import type { Logger } from '../observability/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { SubgraphDataSource, type SubgraphHook } from './data-source.ts';
import { SupergraphShapes } from './response-shape.ts';

/**
 * One client per (subgraph, URL). A reload that keeps a subgraph's URL keeps its pool and warm
 * sockets; clients whose subgraph left the supergraph are closed once their requests finish.
 */
export class SubgraphClients {
  private readonly clients = new Map<string, SubgraphDataSource>();
  private readonly config: Config;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly hook: SubgraphHook | null;
  /** What subgraph answers are checked against, per supergraph generation. */
  readonly shapes = new SupergraphShapes();
  constructor(config: Config, deps: { log: Logger; metrics: Metrics; hook?: SubgraphHook | null }) {
    this.config = config;
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.hook = deps.hook ?? null;
  }

  get(name: string, routingUrl: string): SubgraphDataSource {
    const settings = resolveSubgraphSettings(this.config, name, routingUrl);
    const key = `${name} ${settings.url}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new SubgraphDataSource(settings, { log: this.log, metrics: this.metrics, hook: this.hook, shapes: this.shapes });
      this.clients.set(key, client);
      this.log.debug({ subgraph: name, url: settings.url }, 'subgraph client created');
    }
    return client;
  }

  /** Closes clients not in `keep` (as `${name} ${routingUrl}` from the new supergraph). */
  async retain(keep: ReadonlyArray<{ name: string; url: string }>): Promise<void> {
    const wanted = new Set(keep.map((k) => `${k.name} ${resolveSubgraphSettings(this.config, k.name, k.url).url}`));
    const stale = [...this.clients].filter(([key]) => !wanted.has(key));
    for (const [key] of stale) this.clients.delete(key);
    await Promise.all(stale.map(([, c]) => c.close()));
  }

  /** `force` aborts requests still in flight (after a drain timeout) instead of waiting for them. */
  async closeAll(opts: { force?: boolean } = {}): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => (opts.force ? c.destroy() : c.close())));
  }
}
