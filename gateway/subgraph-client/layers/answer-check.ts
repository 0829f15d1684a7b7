import { LogThrottle } from '../../observability/log-throttle.ts';
import { httpFailure, invalidResponse } from '../classify-failure.ts';
import type { FetchLayer, SubgraphReply, SubgraphResult } from '../fetch.ts';
import { ResponseShapes, type SupergraphShapes } from '../response-shape.ts';
import { redactErrors } from '../subgraph-errors.ts';

/**
 * The answer as the engine may use it. The body is parsed here, above dedupe, so each caller gets
 * its own objects (the engine merges into what it receives). A status outside 2xx is a failure,
 * except a GraphQL-over-HTTP 4xx carrying only errors. The subgraph's errors are redacted, and
 * `data` is checked against the operation that was sent: Apollo's gateway trusts answers (a string
 * where it expects an object fails the whole client response; a short `_entities` list becomes a
 * masked error without `serviceName`), so such values become null at the nearest nullable
 * position, each with a SUBGRAPH_INVALID_RESPONSE error the engine maps to the client's path.
 */
export function answerCheck(shapes: SupergraphShapes | null): FetchLayer {
  return (next, { settings, metrics, log }) => {
    const name = settings.name;
    const invalid = metrics.subgraphInvalidResponses.labels({ subgraph: name });
    // At warn once a second per subgraph (every one at debug): a subgraph that leaks a stack
    // trace per request must not flood the log.
    const throttle = new LogThrottle(1000);
    return async (request) => {
      const answer = await next(request);
      if (!answer.ok) return answer;
      const { status, text } = answer;
      const parsed = parseGraphQLResponse(text);
      // GraphQL-over-HTTP lets a subgraph answer 4xx with a well-formed GraphQL error body.
      if (
        !parsed ||
        !((status >= 200 && status < 300) || (parsed.errors && parsed.data === undefined && status >= 400))
      ) {
        return {
          ok: false,
          failure: httpFailure(
            name,
            status,
            parsed ? 'GraphQL body with an error status' : `not a GraphQL response: ${text.slice(0, 200)}`,
          ),
        };
      }
      const { errors, redacted, redactedCount } = redactErrors(parsed.errors, name, settings.errors);
      if (redactedCount > 0) {
        const detail = { subgraph: name, requestId: request.requestId, redacted: redactedCount, errors: redacted };
        const suppressed = throttle.take('redacted');
        if (suppressed !== null)
          (request.log ?? log).warn({ ...detail, suppressed }, 'subgraph error details (redacted for the client)');
        else (request.log ?? log).debug(detail, 'subgraph error details (redacted for the client)');
      }
      if (parsed.data === undefined || parsed.data === null)
        return reply(answer, { ...(parsed.data === null ? { data: null } : {}), ...(errors.length ? { errors } : {}) });
      const checker = shapes?.for(request.schema);
      const result = checker
        ? checker.check(request.query, request.document, parsed.data, request.variables)
        : ResponseShapes.envelopeOnly(parsed.data);
      if (!result.ok) {
        invalid.inc();
        return { ok: false, failure: invalidResponse(name, result.reason), errors };
      }
      if (result.problems.length) {
        invalid.inc();
        const suppressed = throttle.take('SUBGRAPH_INVALID_RESPONSE');
        if (suppressed !== null) {
          (request.log ?? log).warn(
            {
              subgraph: name,
              code: 'SUBGRAPH_INVALID_RESPONSE',
              requestId: request.requestId,
              problems: result.problems.length,
              first: result.problems.slice(0, 5),
              suppressed,
            },
            'subgraph answer invalid',
          );
        }
        for (const p of result.problems) {
          errors.push({
            message: `Subgraph "${name}" sent an invalid value: ${p.message}`,
            path: [...p.path],
            extensions: { code: 'SUBGRAPH_INVALID_RESPONSE' },
          });
        }
      }
      return reply(answer, { data: result.data, ...(errors.length ? { errors } : {}) });
    };
  };
}

function reply(answer: SubgraphReply, result: SubgraphResult): SubgraphReply {
  return { ok: true, status: answer.status, text: answer.text, result };
}

/** A body that parsed as a GraphQL response envelope; what is inside is not checked yet. */
interface RawResponse {
  data?: unknown;
  errors?: unknown;
}

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
