import type { IncomingHttpHeaders } from 'node:http';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { GatewayPlugin, Identity } from '../gateway/pipeline/plugin.ts';

/**
 * The contract a policy is written against: the pipeline's plugin shape (gateway/pipeline/plugin.ts,
 * where the phases are listed in order), re-exported so a policy imports only this file and
 * gateway/errors. A policy is a GatewayPlugin that one key under `policies:` turns on.
 */
export { anonymous, slot } from '../gateway/pipeline/plugin.ts';
export { expandedFieldsError, finite } from '../gateway/pipeline/operation-analysis.ts';
export type {
  FieldSelection,
  FragmentSelection,
  OperationAnalysis,
  Selection,
  SelectionSetInfo,
} from '../gateway/pipeline/operation-analysis.ts';
export type {
  GatewayPlugin,
  GraphQLParams,
  Identity,
  OperationDone,
  OperationPhase,
  RequestPhase,
  RequestScope,
  ResponsePhase,
  ResponseView,
  SchemaPhase,
  Slot,
  SubgraphAnswer,
  SubgraphFetch,
  SubgraphRequest,
} from '../gateway/pipeline/plugin.ts';

export type Policy = GatewayPlugin;

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
export type PolicyFunction = (input: {
  identity: Identity;
  headers: IncomingHttpHeaders;
  operationName: string | null;
}) => boolean | Promise<boolean>;

export interface PolicyMetrics {
  counter(
    name: string,
    help: string,
    labelNames?: readonly string[],
  ): { inc(labels?: Record<string, string>, value?: number): void };
  histogram(name: string, help: string, buckets: number[]): { observe(value: number): void };
}

/** What a policy module exports. `key` is its config key under `policies:`. */
export interface PolicyModule<C> {
  readonly key: string;
  readonly configSchema: z.ZodType<C>;
  create(config: C, deps: PolicyDeps): Policy | Promise<Policy>;
}
