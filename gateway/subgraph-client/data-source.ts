import type CircuitBreaker from 'opossum';
import type { Pool } from 'undici';
import type { SubgraphSettings } from '../config/resolve-subgraphs.ts';
import type { SubgraphRequest } from '../engine/engine.ts';
import type { Logger } from '../observability/log.ts';
import { LogThrottle } from '../observability/log-throttle.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { RequestScope, SubgraphAnswer, SubgraphCall, SubgraphFetch } from '../pipeline/plugin.ts';
import { createBreaker } from './breaker.ts';
import { attemptTimeout, classifyFailure, deadlineExceeded, errorCode, httpFailure, invalidResponse, TOO_LARGE, type ClassifiedFailure } from './classify-failure.ts';
import { failurePath } from './error-path.ts';
import { compileHeaderRules, type HeaderBuilder } from './headers.ts';
import { createPool } from './pool.ts';
import { ResponseShapes, type SupergraphShapes } from './response-shape.ts';
import { RetryBudget } from './retry-budget.ts';
import { redactErrors } from './subgraph-errors.ts';
import { TokenBucket } from './token-bucket.ts';
import { backoffMs, mayRetry, statusFailure, transportFailure, type AttemptFailure } from './retry-policy.ts';

/** An attempt that failed in a way the breaker counts and the retry loop may retry. */
class AttemptError extends Error {
  readonly failure: ClassifiedFailure;
  readonly retry: AttemptFailure;
  constructor(failure: ClassifiedFailure, retry: AttemptFailure) {
    super(failure.cause);
    this.failure = failure;
    this.retry = retry;
  }
}

interface Answer { status: number; text: string }
/** The plugins' fetch middleware (pipeline/runner.ts composes it): it wraps everything after the headers are built. */
export type SubgraphWrap = (next: SubgraphFetch, subgraph: { readonly name: string }) => SubgraphFetch;
/** What a fetch knows about the client request; absent for the engine's own fetches. */
type Ctx = RequestScope | null;

type Outcome = { ok: true; answer: Answer; attempts: number } | { ok: false; failure: ClassifiedFailure; attempts: number };

/**
 * Tessera's client for one subgraph, the fetch function the engine executes plans with: a
 * keep-alive pool, per-attempt and overall deadlines, retries that are safe for the operation
 * type and bounded by a budget, a circuit breaker, and in-flight deduplication. It never throws:
 * a failure is returned as a GraphQL error so that the engine attaches `serviceName` and maps
 * the path, and the other subgraphs' fields are still served.
 */
export class SubgraphDataSource {
  readonly settings: SubgraphSettings;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly headers: HeaderBuilder;
  /** The plugins' wraps around `send`, or null when no plugin wraps subgraph fetches. */
  private readonly wrapped: SubgraphFetch | null;
  private readonly bucket: TokenBucket | null;
  private readonly budget: RetryBudget;
  private readonly breaker: CircuitBreaker<[string, Record<string, string>, number], Answer> | null;
  private readonly inflight = new Map<string, Promise<Outcome>>();
  private readonly failureLog = new LogThrottle(1000);
  private readonly shapes: SupergraphShapes | null;
  /** Label children resolved once: prom-client hashes label objects on every un-cached call. */
  private readonly m: {
    success: { observe(v: number): void };
    failure: (code: ClassifiedFailure['code']) => { observe(v: number): void };
    inFlight: { inc(): void; dec(): void };
    timeouts: { inc(): void };
    budgetExhausted: { inc(): void };
    dedupeHits: { inc(): void };
    invalid: { inc(): void };
  };

  constructor(settings: SubgraphSettings, deps: { log: Logger; metrics: Metrics; wrap?: SubgraphWrap | null; shapes?: SupergraphShapes | null }) {
    this.wrapped = deps.wrap ? deps.wrap((call) => this.send(call), { name: settings.name }) : null;
    this.shapes = deps.shapes ?? null;
    this.bucket = settings.rateLimit ? new TokenBucket(settings.rateLimit.requestsPerSecond, settings.rateLimit.burst) : null;
    this.settings = settings;
    const url = new URL(settings.url);
    this.path = `${url.pathname}${url.search}`;
    this.pool = createPool(settings);
    this.log = deps.log;
    this.metrics = deps.metrics;
    this.headers = compileHeaderRules(settings.headers);
    this.budget = new RetryBudget({ ratio: settings.retry.budgetRatio, minPerSecond: settings.retry.budgetMinPerSecond, windowMs: settings.retry.budgetWindowMs });
    const subgraph = settings.name;
    this.m = {
      success: deps.metrics.subgraphDuration.labels({ subgraph, outcome: 'success' }),
      failure: (code) => deps.metrics.subgraphDuration.labels({ subgraph, outcome: code }),
      inFlight: deps.metrics.subgraphInFlight.labels({ subgraph }),
      timeouts: deps.metrics.subgraphTimeouts.labels({ subgraph }),
      budgetExhausted: deps.metrics.subgraphRetryBudgetExhausted.labels({ subgraph }),
      dedupeHits: deps.metrics.dedupeHits.labels({ subgraph }),
      invalid: deps.metrics.subgraphInvalidResponses.labels({ subgraph }),
    };
    this.breaker = createBreaker((body: string, headers: Record<string, string>, deadlineAt: number) => this.attempt(body, headers, deadlineAt), settings, deps);
  }

  async process(request: SubgraphRequest): Promise<SubgraphAnswer> {
    const call: SubgraphCall = { ...request, subgraphName: this.settings.name, headers: this.headers(request.context?.headers) };
    if (!this.wrapped) return this.send(call);
    try {
      return await this.wrapped(call);
    } catch (err) {
      // `send` never throws, so this is a plugin's: it must not fail the client's whole response.
      return this.failed({ code: 'SUBGRAPH_FETCH_INTERNAL_ERROR', message: `The gateway failed while calling subgraph "${this.settings.name}"`, cause: `a plugin's wrapSubgraphFetch threw: ${(err as Error)?.stack ?? String(err)}` }, call);
    }
  }

  /** Everything after the plugins' wraps: rate cap, dedupe, retries, breaker, the exchange, the answer's checks. */
  private async send(call: SubgraphCall): Promise<SubgraphAnswer> {
    const ctx = call.context;
    if (this.bucket && !this.bucket.take()) {
      return this.failed({ code: 'SUBGRAPH_RATE_LIMITED', message: `Subgraph "${this.settings.name}" is over the gateway's request-rate limit for it`, cause: 'rate limit' }, call);
    }
    const body = JSON.stringify({ query: call.query, variables: call.variables, operationName: call.operationName });
    const headers = call.headers;
    const isMutation = call.operationType === 'mutation';
    // Same body and same forwarded headers: the same answer. The request id is left out of the
    // key (it differs per request); a shared request carries the first caller's.
    const dedupeKey = this.settings.dedupe && !isMutation ? `${body}\n${JSON.stringify(headers)}` : null;
    if (ctx) headers['x-request-id'] = ctx.requestId;

    let outcome: Outcome;
    if (dedupeKey !== null) {
      // The text is shared and each caller parses its own copy, because the engine merges into
      // the objects it receives.
      const key = dedupeKey;
      let shared = this.inflight.get(key);
      if (shared) {
        this.m.dedupeHits.inc();
      } else {
        shared = this.execute(body, headers, false, ctx).finally(() => this.inflight.delete(key));
        this.inflight.set(key, shared);
      }
      outcome = await shared;
    } else {
      outcome = await this.execute(body, headers, isMutation, ctx);
    }

    if (outcome.ok) {
      const { status, text } = outcome.answer;
      const parsed = parseGraphQLResponse(text);
      // GraphQL-over-HTTP lets a subgraph answer 4xx with a well-formed GraphQL error body.
      if (parsed && ((status >= 200 && status < 300) || (parsed.errors && parsed.data === undefined && status >= 400))) return this.checked(parsed, call);
      return this.failed(httpFailure(this.settings.name, status, parsed ? 'GraphQL body with an error status' : `not a GraphQL response: ${text.slice(0, 200)}`), call);
    }
    return this.failed(outcome.failure, call);
  }

  /**
   * The answer as the gateway may use it: the subgraph's errors redacted, and `data` checked
   * against the operation that was sent. The Apollo gateway trusts answers: a string where it
   * expects an object fails the whole client response, a short `_entities` list becomes a
   * masked error without `serviceName`. Here such values become null at the nearest nullable
   * position, each with a SUBGRAPH_INVALID_RESPONSE error the gateway maps to the client's path.
   */
  private checked(parsed: RawResponse, call: SubgraphCall): SubgraphAnswer {
    const ctx = call.context;
    const { errors, redacted, redactedCount } = redactErrors(parsed.errors, this.settings.name, this.settings.errors);
    if (redactedCount > 0) {
      const log = ctx?.log ?? this.log;
      const detail = { subgraph: this.settings.name, requestId: ctx?.requestId, redacted: redactedCount, errors: redacted };
      // Every one at debug; at warn once a second per subgraph, so a subgraph that leaks a
      // stack trace per request cannot flood the log.
      const suppressed = this.failureLog.take('redacted');
      if (suppressed !== null) log.warn({ ...detail, suppressed }, 'subgraph error details (redacted for the client)');
      else log.debug(detail, 'subgraph error details (redacted for the client)');
    }
    if (parsed.data === undefined || parsed.data === null) return { ...(parsed.data === null ? { data: null } : {}), ...(errors.length ? { errors } : {}) };
    const shapes = this.shapes?.for(call.schema);
    const result = shapes ? shapes.check(call.query, call.document, parsed.data, call.variables) : ResponseShapes.envelopeOnly(parsed.data);
    if (!result.ok) {
      this.m.invalid.inc();
      const failed = this.failed(invalidResponse(this.settings.name, result.reason), call);
      return { errors: [...(failed.errors ?? []), ...errors] };
    }
    if (result.problems.length) {
      this.m.invalid.inc();
      const suppressed = this.failureLog.take('SUBGRAPH_INVALID_RESPONSE');
      if (suppressed !== null) {
        (ctx?.log ?? this.log).warn(
          { subgraph: this.settings.name, code: 'SUBGRAPH_INVALID_RESPONSE', requestId: ctx?.requestId, problems: result.problems.length, first: result.problems.slice(0, 5), suppressed },
          'subgraph answer invalid',
        );
      }
      for (const p of result.problems) {
        errors.push({ message: `Subgraph "${this.settings.name}" sent an invalid value: ${p.message}`, path: [...p.path], extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' } });
      }
    }
    return { data: result.data as Record<string, unknown>, ...(errors.length ? { errors } : {}) };
  }

  /** The retry loop around breaker-guarded attempts, under one overall deadline. */
  private async execute(body: string, headers: Record<string, string>, isMutation: boolean, ctx: Ctx): Promise<Outcome> {
    const { name, retry, timeoutMs } = this.settings;
    const started = performance.now();
    const deadlineAt = started + timeoutMs;
    this.budget.recordRequest();
    this.m.inFlight.inc();
    let attempts = 0;
    try {
      for (;;) {
        attempts++;
        try {
          const answer = this.breaker ? await this.breaker.fire(body, headers, deadlineAt) : await this.attempt(body, headers, deadlineAt);
          this.m.success.observe((performance.now() - started) / 1000);
          return { ok: true, answer, attempts };
        } catch (err) {
          const attemptError = err instanceof AttemptError ? err : null;
          const failure = attemptError?.failure ?? classifyFailure(name, err);
          const why: AttemptFailure = attemptError?.retry ?? { transient: false, neverSent: errorCode(err) === 'EOPENBREAKER', reason: errorCode(err) };
          if (failure.code === 'SUBGRAPH_TIMEOUT') this.m.timeouts.inc();
          const done = (): Outcome => {
            this.m.failure(failure.code).observe((performance.now() - started) / 1000);
            return { ok: false, failure: attempts > 1 ? { ...failure, cause: `${failure.cause} (after ${attempts} attempts)` } : failure, attempts };
          };
          if (attempts >= retry.maxAttempts || performance.now() >= deadlineAt || !mayRetry(why, isMutation)) return done();
          const delay = backoffMs(attempts, retry, why);
          if (performance.now() - started + delay >= timeoutMs) return done();
          if (!this.budget.tryRetry()) {
            this.m.budgetExhausted.inc();
            return done();
          }
          this.metrics.subgraphRetries.inc({ subgraph: name, reason: why.reason });
          (ctx?.log ?? this.log).debug({ subgraph: name, attempt: attempts, reason: why.reason, delayMs: delay, requestId: ctx?.requestId }, 'retrying subgraph request');
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        }
      }
    } finally {
      this.m.inFlight.dec();
    }
  }

  /**
   * One HTTP exchange under the sooner of the attempt timeout and the overall deadline (our own
   * timer: undici's are coarse, ~1 s). Throws AttemptError for what the breaker should count:
   * transport errors, timeouts, 5xx and 429.
   */
  private async attempt(body: string, headers: Record<string, string>, deadlineAt: number): Promise<Answer> {
    const { attemptTimeoutMs, timeoutMs } = this.settings;
    const remaining = deadlineAt - performance.now();
    const abort = new AbortController();
    const timer = remaining <= attemptTimeoutMs
      ? setTimeout(() => abort.abort(deadlineExceeded(timeoutMs)), Math.max(0, remaining))
      : setTimeout(() => abort.abort(attemptTimeout(attemptTimeoutMs)), attemptTimeoutMs);
    let status: number;
    let text: string;
    let retryAfter: string | string[] | undefined;
    try {
      const res = await this.pool.request({ path: this.path, method: 'POST', headers, body, signal: abort.signal });
      status = res.statusCode;
      retryAfter = res.headers['retry-after'];
      // An announced size over the cap is refused before a byte of the body is read; undici
      // enforces the cap on what actually arrives (chunked bodies, lying headers).
      const announced = Number(res.headers['content-length']);
      if (announced > this.settings.maxResponseBytes) {
        res.body.destroy();
        throw Object.assign(new Error(`Content-Length ${announced} > maxResponseBytes ${this.settings.maxResponseBytes}`), { code: TOO_LARGE });
      }
      text = await res.body.text();
    } catch (err) {
      throw new AttemptError(classifyFailure(this.settings.name, err), transportFailure(errorCode(err)));
    } finally {
      clearTimeout(timer);
    }
    if (status >= 500 || status === 429) throw new AttemptError(httpFailure(this.settings.name, status, `body: ${text.slice(0, 200)}`), statusFailure(status, retryAfter));
    return { status, text };
  }

  private failed(failure: ClassifiedFailure, call: SubgraphCall): SubgraphAnswer {
    const ctx = call.context;
    const suppressed = this.failureLog.take(failure.code);
    if (suppressed !== null) {
      (ctx?.log ?? this.log).warn(
        { subgraph: this.settings.name, code: failure.code, cause: failure.cause, status: failure.status, url: this.settings.url, requestId: ctx?.requestId, suppressed },
        'subgraph request failed',
      );
    }
    const isEntityFetch = Array.isArray(call.variables?.['representations']);
    return {
      errors: [
        {
          message: failure.message,
          path: failurePath(call.query, call.document, isEntityFetch),
          extensions: { code: failure.code, ...(failure.status ? { status: failure.status } : {}) },
        },
      ],
    };
  }

  /** Waits for in-flight requests, then closes the sockets. */
  async close(): Promise<void> {
    this.breaker?.shutdown();
    await this.pool.close();
  }

  /** Aborts in-flight requests and closes the sockets now. */
  async destroy(): Promise<void> {
    this.breaker?.shutdown();
    await this.pool.destroy();
  }
}

/** A body that parsed as a GraphQL response envelope; what is inside is not checked yet. */
interface RawResponse { data?: unknown; errors?: unknown }

function parseGraphQLResponse(text: string): RawResponse | null {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    const v = value as Record<string, unknown>;
    if (!('data' in v) && !Array.isArray(v['errors'])) return null;
    return v;
  } catch {
    return null;
  }
}
