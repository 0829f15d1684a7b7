import type { IncomingHttpHeaders } from 'node:http';
import type { DocumentNode, GraphQLFormattedError, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { OperationAnalysis } from './operation-analysis.ts';

export type { FieldSelection, FragmentSelection, OperationAnalysis, Selection, SelectionSetInfo } from './operation-analysis.ts';

/** Who is calling. Anonymous until the auth policy sets it; every later policy reads it. */
export interface Identity {
  /** `sub` of a verified token; null when anonymous. */
  readonly subject: string | null;
  readonly authenticated: boolean;
  readonly scopes: ReadonlySet<string>;
  /** Verified claims only; empty when anonymous. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export const anonymous: Identity = Object.freeze({ subject: null, authenticated: false, scopes: new Set<string>(), claims: Object.freeze({}) });

/** Rebuilt for every supergraph generation (startup and each hot reload). */
export interface SchemaPhase {
  readonly apiSchema: GraphQLSchema;
  readonly supergraphSdl: string;
  /** `supergraphSdl` parsed once per generation, for every policy that reads its directives. */
  readonly supergraphDocument: DocumentNode;
}

/** Per request, before parsing: only headers are known. Runs inside Apollo's `context` function. */
export interface RequestPhase {
  readonly requestId: string;
  readonly headers: IncomingHttpHeaders;
  /** The TCP peer (a proxy's address when behind one). */
  readonly remoteAddress: string;
  readonly log: Logger;
  identity: Identity;
  /** Added to the HTTP response whatever the outcome (e.g. `ratelimit`). */
  setResponseHeader(name: string, value: string): void;
}

/** After parse + validate, before planning. Runs from Apollo's `didResolveOperation`. */
export interface OperationPhase extends RequestPhase {
  readonly schema: SchemaPhase;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly operationName: string | null;
  readonly variables: Readonly<Record<string, unknown>>;
  /**
   * The one analysis of this operation (policies/operation-analysis.ts): fragments resolved once,
   * depth, aliases, root fields, directives and the expanded field count computed without
   * expanding, cached per document and supergraph generation. Policies read it instead of walking
   * the document themselves.
   */
  readonly analysis: OperationAnalysis;
  /** Set by the cost policy; the rate limiter spends it (1 per request when no cost policy runs). */
  estimatedCost: number | null;
  /**
   * Plan and execute this document instead (e.g. with unauthorized fields removed). `planKey`
   * identifies the rewrite, so query plans are cached per rewritten document.
   */
  replaceDocument(document: DocumentNode, planKey: string): void;
}

/** Per subgraph fetch. Runs in the subgraph client before the request is sent. */
export interface SubgraphPhase {
  readonly request: RequestPhase;
  readonly subgraphName: string;
  /** Mutable: the headers that will be sent. */
  readonly outgoingHeaders: Record<string, string>;
}

/** The response as the client will see it; an `OperationDone` callback may edit it. */
export interface ResponseView {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/** Returned by `onOperation` to run after the response is known (e.g. fill nulls, charge actual cost). */
export type OperationDone = (response: ResponseView) => void | Promise<void>;

export interface Policy {
  /** Shown in logs and metrics: 'auth', 'authorization', 'operation-limits', 'cost', 'rate-limit'. */
  readonly name: string;
  onSchema?(schema: SchemaPhase): void | Promise<void>;
  onRequest?(req: RequestPhase): void | Promise<void>;
  onOperation?(op: OperationPhase): void | OperationDone | Promise<void | OperationDone>;
  /**
   * Called, in policy order, on the policies after the one whose onOperation threw (e.g. so the rate
   * limiter can charge for refused documents). It cannot change the outcome: the original error is
   * what the client gets, and a throw here is only logged.
   */
  onRefused?(op: OperationPhase, error: unknown): void | Promise<void>;
  /** Synchronous on purpose: it runs once per subgraph fetch, on the hot path. */
  onSubgraphRequest?(sub: SubgraphPhase): void;
  /** Release timers, sockets, Redis scripts. Called once on shutdown. */
  close?(): Promise<void>;
}

export interface PolicyDeps {
  readonly log: Logger;
  /** The shared Redis client when `redis` is configured, else null. */
  readonly redis: Redis | null;
  /** Directory of the config file: relative paths in policy config resolve against it. */
  readonly baseDir: string;
  /** Named `@policy` functions registered in code (createGateway's `policies` option). */
  readonly policyFunctions: Readonly<Record<string, PolicyFunction>>;
  /** Registers a counter or gauge on the gateway's /metrics. */
  readonly metrics: PolicyMetrics;
}

/** A `@policy(policies: [["name"]])` function: true allows. It may be async; a throw denies. */
export type PolicyFunction = (input: { identity: Identity; headers: IncomingHttpHeaders; operationName: string | null }) => boolean | Promise<boolean>;

export interface PolicyMetrics {
  counter(name: string, help: string, labelNames?: readonly string[]): { inc(labels?: Record<string, string>, value?: number): void };
  histogram(name: string, help: string, buckets: number[]): { observe(value: number): void };
}

/** What a policy module exports. `key` is its config key under `policies:`. */
export interface PolicyModule<C> {
  readonly key: string;
  readonly configSchema: z.ZodType<C>;
  create(config: C, deps: PolicyDeps): Policy | Promise<Policy>;
}
